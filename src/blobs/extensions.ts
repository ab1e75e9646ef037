// File extensions for the media types of generated results, one table for everyone who names a
// file after its content type: the blob keys of result copies (gateway/results/copier.ts) and
// the CLI's `--download` (cli/download.ts).
const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'application/json': 'json',
};

/** The extension of a bare media type (no parameters, lower case); `bin` for any other. */
export function extensionOfType(contentType: string): string {
  return EXTENSIONS[contentType] ?? 'bin';
}
