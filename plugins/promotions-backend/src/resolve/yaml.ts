import { parseAllDocuments, parseDocument } from 'yaml';
import { RepositorySnapshot } from '../repository/types';
import { ResolutionError } from './types';

/** Files larger than this are refused rather than parsed. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Aliases per document: enough for real manifests, far too few for an alias bomb. */
const MAX_ALIASES = 100;

/** Reads a repository file as text, with the size limit; a missing file is an error. */
export async function readText(snapshot: RepositorySnapshot, path: string): Promise<string> {
  const entry = snapshot.files.get(path);
  if (!entry) throw new ResolutionError(path, 'file not found');
  if (entry.size > MAX_FILE_BYTES) {
    throw new ResolutionError(path, `file is ${entry.size} bytes, more than the ${MAX_FILE_BYTES} allowed`);
  }
  const content = await snapshot.readFile(path);
  if (!content) throw new ResolutionError(path, 'file not found');
  return content.toString('utf8');
}

function toJs(doc: ReturnType<typeof parseDocument>, path: string): unknown {
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    const line = error.linePos?.[0]?.line;
    throw new ResolutionError(path, `invalid YAML${line ? ` at line ${line}` : ''}: ${error.message.split('\n')[0]}`);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    throw new ResolutionError(path, `YAML rejected: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** Parses one YAML document. */
export function parseYaml(text: string, path: string): unknown {
  return toJs(parseDocument(text, { prettyErrors: true }), path);
}

/** Parses every document of a multi-document YAML file, skipping empty ones. */
export function parseYamlDocuments(text: string, path: string): unknown[] {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map(doc => toJs(doc as ReturnType<typeof parseDocument>, path)).filter(d => d !== null && d !== undefined);
}
