// The dashboard's page: sign-in, then four pages chosen by the URL's hash (#/overview, #/tenants,
// #/usage, #/tasks) so the browser's back button and bookmarks work without a server route each.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, problem, setSession } from './api.js';
import { Overview } from './pages/overview.js';
import { SignIn } from './pages/sign-in.js';
import { Tasks } from './pages/tasks.js';
import { Tenants } from './pages/tenants.js';
import { Usage } from './pages/usage.js';

const PAGES = {
  overview: { title: 'Overview', view: Overview },
  tenants: { title: 'Tenants', view: Tenants },
  usage: { title: 'Usage', view: Usage },
  tasks: { title: 'Tasks and deliveries', view: Tasks },
} as const;
type PageName = keyof typeof PAGES;

function pageOf(hash: string): PageName {
  const name = hash.replace(/^#\/?/, '').split('?')[0] as PageName;
  return name in PAGES ? name : 'overview';
}

function useHashPage(): PageName {
  const [page, setPage] = useState(pageOf(location.hash));
  useEffect(() => {
    const changed = () => setPage(pageOf(location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return page;
}

function App() {
  const [state, setState] = useState<'checking' | 'out' | 'in'>('checking');
  const [message, setMessage] = useState<string>();
  const page = useHashPage();

  useEffect(() => {
    api.GET('/dashboard/session').then(({ data }) => {
      setSession(data?.data);
      setState(data ? 'in' : 'out');
    });
  }, []);

  useEffect(() => {
    document.title = `${PAGES[page].title} · liangxin-gateway`;
  }, [page]);

  async function signOut() {
    const { error, response } = await api.DELETE('/dashboard/session');
    if (error) return setMessage(problem(error, response));
    setSession(undefined);
    setMessage('Signed out.');
    setState('out');
  }

  if (state === 'checking') return <p class="loading">Loading the dashboard…</p>;
  if (state === 'out') {
    return (
      <SignIn
        notice={message}
        onSignedIn={(session) => {
          setSession(session);
          setMessage(undefined);
          setState('in');
        }}
      />
    );
  }
  const View = PAGES[page].view;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">liangxin-gateway</span>
        <nav aria-label="Pages">
          <ul>
            {(Object.keys(PAGES) as PageName[]).map((name) => (
              <li key={name}>
                <a href={`#/${name}`} aria-current={name === page ? 'page' : undefined}>
                  {PAGES[name].title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{PAGES[page].title}</h1>
        {message && <p role="status">{message}</p>}
        <View />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
