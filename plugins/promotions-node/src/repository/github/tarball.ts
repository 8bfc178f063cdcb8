import crypto from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { Parser, ReadEntry } from 'tar';

/** A file the caller wants from a tarball: where it is in the commit, and its size. */
export interface WantedBlob {
  path: string;
  size: number;
}

export interface TarballLimits {
  /** The most bytes the archive may hold uncompressed (headers included); more aborts the read. */
  maxBytes: number;
  /** The largest file kept; bigger ones are skipped (the caller fetches them as blobs). */
  maxFileBytes: number;
}

/** Tar entry types that hold a regular file's content. */
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/** The Git blob id of some content: sha1 of `blob <length>\0` and the content. */
function blobHasher(size: number): crypto.Hash {
  return crypto.createHash('sha1').update(`blob ${size}\0`);
}

/**
 * The path of an entry inside the commit, without the archive's top directory
 * (`<owner>-<repo>-<shortsha>/`), or undefined when it is not a plain relative path: absolute,
 * with `.` or `..` segments, or empty segments.
 */
export function pathInCommit(entryPath: string): string | undefined {
  const segments = entryPath.split('/');
  if (segments.length < 2 || segments[0] === '' || segments[0] === '..')
    return undefined;
  const rest = segments.slice(1);
  if (rest.some(s => s === '' || s === '.' || s === '..')) return undefined;
  return rest.join('/');
}

/**
 * Reads the files of a commit from its gzip'd tarball, as GitHub serves
 * `GET /repos/{owner}/{repo}/tarball/{ref}`: every entry below one top directory, which is
 * stripped. Returns the content of each wanted blob found at its path whose Git blob id, computed
 * from the content, is the one wanted: an entry that does not hash to it is ignored, never
 * trusted. Wanted blobs that are missing, too big, or do not verify are absent from the answer,
 * for the caller to fetch one by one.
 *
 * The archive is read as a stream: only the wanted files are buffered, none larger than
 * `maxFileBytes`, and the read is aborted with an error once more than `maxBytes` of it
 * (uncompressed) has been read. A corrupt or truncated archive rejects.
 */
export async function readTarball(
  body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
  wanted: Map<string, WantedBlob>,
  limits: TarballLimits,
): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  /** The wanted blob ids at each path, with their sizes. */
  const byPath = new Map<string, Map<string, number>>();
  for (const [oid, { path, size }] of wanted) {
    const oids = byPath.get(path) ?? new Map<string, number>();
    oids.set(oid.toLowerCase(), size);
    byPath.set(path, oids);
  }

  let failure: Error | undefined;
  const parser = new Parser({
    // The archive is decompressed before the parser, to count what it holds.
    brotli: false,
    zstd: false,
    // Unknown or damaged entries are skipped; what matters is what verifies.
    strict: false,
    onwarn: (code, message) => {
      if (code === 'TAR_BAD_ARCHIVE' || code === 'TAR_ABORT')
        failure ??= new Error(`The tarball is damaged: ${message}`);
    },
  });
  parser.on('entry', (entry: ReadEntry) => {
    const path = FILE_TYPES.has(entry.type)
      ? pathInCommit(entry.path)
      : undefined;
    const oids = path === undefined ? undefined : byPath.get(path);
    const size = entry.size;
    const sizes = oids ? [...oids.values()] : [];
    if (
      !oids ||
      size > limits.maxFileBytes ||
      // A file of another size cannot have a wanted blob id: not worth hashing.
      !sizes.includes(size) ||
      [...oids.keys()].every(oid => found.has(oid))
    ) {
      entry.resume();
      return;
    }
    const hash = blobHasher(size);
    const chunks: Buffer[] = [];
    let length = 0;
    entry.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > size) return;
      hash.update(chunk);
      chunks.push(chunk);
    });
    entry.on('end', () => {
      if (length !== size) return;
      const oid = hash.digest('hex');
      if (oids.has(oid) && !found.has(oid))
        found.set(oid, Buffer.concat(chunks, size));
    });
  });
  const parsed = new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('abort', (error: Error) =>
      reject(new Error(`The tarball could not be read: ${error.message}`)),
    );
  });
  // Settled by the pipeline's own failure when that comes first.
  parsed.catch(() => {});

  let read = 0;
  try {
    await pipeline(
      Readable.from(body as AsyncIterable<Uint8Array>),
      zlib.createGunzip(),
      async (tar: AsyncIterable<Buffer>) => {
        for await (const chunk of tar) {
          read += chunk.length;
          if (read > limits.maxBytes)
            failure ??= new Error(
              `The tarball holds more than ${limits.maxBytes} bytes uncompressed`,
            );
          if (failure) throw failure;
          if (!parser.write(chunk))
            await Promise.race([once(parser, 'drain'), parsed]);
        }
        parser.end();
      },
    );
  } catch (error) {
    // The pipeline may report the streams it stopped rather than why it stopped them.
    throw failure ?? error;
  }
  await parsed;
  if (failure) throw failure;
  return found;
}
