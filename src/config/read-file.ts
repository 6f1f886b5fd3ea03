/**
 * Reading a configuration file (nodepool.yaml, clouds.yaml, secure.yaml) without hanging or
 * filling memory: a path that is not a regular file (a FIFO would block the read for ever,
 * /dev/zero never ends) is refused, and so is a file larger than any configuration needs.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';

/**
 * Largest configuration file read: 8 MiB. A large Nodepool deployment's nodepool.yaml is tens of
 * kilobytes; a file of 100,000 keys is about 2 MiB and is still checked (see bench/config.ts).
 */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** Why a configuration file cannot be read: its message reads after the file's name. */
export class UnreadableFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableFileError';
  }
}

export function readConfigText(path: string, maxBytes = MAX_CONFIG_BYTES): string {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UnreadableFileError(`cannot read: not a regular file (${kind(st)})`);
    size = st.size;
  } catch (e) {
    if (e instanceof UnreadableFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UnreadableFileError(`cannot read: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (size > maxBytes) throw new UnreadableFileError(`cannot read: ${mib(size)} is larger than the limit of ${mib(maxBytes)} for a configuration file`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UnreadableFileError(`cannot read: ${(e as Error).message}`);
  }
  // The file may have grown between the stat and the read.
  if (text.length > maxBytes) throw new UnreadableFileError(`cannot read: larger than the limit of ${mib(maxBytes)} for a configuration file`);
  return text;
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB` : `${bytes} bytes`;
}
