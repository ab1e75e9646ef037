// Sign-in: the admin token, traded for a session cookie (HttpOnly: the page never sees it again).
import { useState } from 'preact/hooks';
import { api, fieldErrors, problem } from '../api.js';
import { Problem } from '../components.js';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (session: { csrf: string }) => void; notice?: string }) {
  const [token, setToken] = useState('');
  const [failure, setFailure] = useState<{ message: string; fields: string[] }>();
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    const { data, error, response } = await api.POST('/dashboard/session', { body: { token } });
    setBusy(false);
    setToken('');
    if (data) return onSignedIn(data.data!);
    setFailure({ message: problem(error, response), fields: fieldErrors(error) });
  }

  return (
    <main id="main" class="sign-in">
      <h1>liangxin-gateway</h1>
      <form onSubmit={submit} class="card">
        <h2>Sign in</h2>
        {notice && <p role="status">{notice}</p>}
        <label for="admin-token">Admin token</label>
        <input
          id="admin-token"
          name="token"
          type="password"
          autocomplete="current-password"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <p class="hint">
          The gateway's <code>admin.token</code>. It is sent once; the session is kept in a cookie.
        </p>
        <Problem message={failure?.message} fields={failure?.fields} />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
