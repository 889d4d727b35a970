import { existsSync } from 'node:fs';

/**
 * The Chromium the browser tests drive: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`.
 *
 * @returns Its path, and whether it exists.
 */
export function chromiumPath(): { path: string; present: boolean } {
  const file = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return { path: file, present: existsSync(file) };
}
