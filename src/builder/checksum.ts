import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';

export interface Checksums {
  size: number;
  md5: string;
  sha256: string;
}

/** MD5 (what Glance reports as `checksum`) and SHA-256 of a file, read once as a stream. */
export async function checksumFile(path: string): Promise<Checksums> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let size = 0;
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), new Writable({
    write(chunk: Buffer, _enc, done) {
      size += chunk.length;
      md5.update(chunk);
      sha256.update(chunk);
      done();
    },
  }));
  return { size, md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

/**
 * Checksums of a build output, written beside it as `<file>.md5` and `<file>.sha256` in the
 * `md5sum`/`sha256sum` format diskimage-builder's `--checksum` writes. When the build command
 * already wrote them, they must agree with the file: a mismatch is a corrupt output.
 */
export async function checksumOutput(path: string): Promise<Checksums> {
  const sums = await checksumFile(path);
  const name = path.split('/').pop()!;
  for (const [ext, value] of [['md5', sums.md5], ['sha256', sums.sha256]] as const) {
    const existing = await readFile(`${path}.${ext}`, 'utf8').catch(() => null);
    const written = existing?.trim().split(/\s+/)[0];
    if (written && written !== value) throw new Error(`${name}.${ext} says ${written}, the file's ${ext} is ${value}`);
    if (!written) await writeFile(`${path}.${ext}`, `${value}  ${name}\n`);
  }
  return sums;
}
