import { Document, parseAllDocuments } from 'yaml';
import { RepositorySnapshot } from '../repository/types';
import { ResolutionError } from './types';

/** Files larger than this are refused rather than parsed. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Aliases per document: enough for real manifests, far too few for an alias bomb. */
const MAX_ALIASES = 100;

/** Reads a repository file as text, with the size limit; a missing file is an error. */
export async function readText(
  snapshot: RepositorySnapshot,
  path: string,
): Promise<string> {
  const entry = snapshot.files.get(path);
  if (!entry) throw new ResolutionError(path, 'file not found');
  if (entry.size > MAX_FILE_BYTES) {
    throw new ResolutionError(
      path,
      `file is ${entry.size} bytes, more than the ${MAX_FILE_BYTES} allowed`,
    );
  }
  const content = await snapshot.readFile(path);
  if (!content) throw new ResolutionError(path, 'file not found');
  return content.toString('utf8');
}

function toJs(doc: Document, path: string): unknown {
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    const line = error.linePos?.[0]?.line;
    throw new ResolutionError(
      path,
      `invalid YAML${line ? ` at line ${line}` : ''}: ${
        error.message.split('\n')[0]
      }`,
    );
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    throw new ResolutionError(
      path,
      `YAML rejected: ${(error as Error).message.split('\n')[0]}`,
    );
  }
}

/** Parses every document of a YAML text, skipping empty ones. */
export function parseYamlDocuments(text: string, path: string): unknown[] {
  // Merge keys (`<<: *defaults`) are read as Kubernetes' YAML reader does.
  const documents = parseAllDocuments(text, {
    prettyErrors: true,
    merge: true,
  });
  return documents
    .map(doc => toJs(doc as Document, path))
    .filter(value => value !== null && value !== undefined);
}

/** Parses a YAML text that holds one document; an empty text is null. */
export function parseYaml(text: string, path: string): unknown {
  const documents = parseYamlDocuments(text, path);
  if (documents.length > 1) {
    throw new ResolutionError(
      path,
      'expected one YAML document, found several',
    );
  }
  return documents[0] ?? null;
}
