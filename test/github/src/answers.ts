import { GithubUser } from './GithubObjects';

/** What the simulator answers a request with, before it is checked and sent. */
export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A request on its way to the endpoint that handles it. */
export interface Call {
  params: Record<string, string>;
  query: URLSearchParams;
  // Checked against the operation's schema before it gets here.
  body: any;
  /** The account the request's token authenticates. */
  user: GithubUser;
  /** The operation's page in GitHub's documentation, for error bodies. */
  docs: string;
}

export const DOCS = 'https://docs.github.com/rest';

export const notFound = (documentation: string): Answer => ({
  status: 404,
  body: {
    message: 'Not Found',
    documentation_url: `${DOCS}/${documentation}`,
    status: '404',
  },
});

/** A 422 as GitHub words it: a message, and optionally what failed. */
export const unprocessable = (
  call: Call,
  message: string,
  errors?: unknown[],
): Answer => ({
  status: 422,
  body: {
    message,
    ...(errors ? { errors } : {}),
    documentation_url: call.docs,
    status: '422',
  },
});

/** The page a list request asks for (`per_page`, at most 100, and `page`). */
export function pageOf(query: URLSearchParams) {
  const perPage = Math.min(
    100,
    Math.max(1, Number(query.get('per_page') ?? 30) || 30),
  );
  const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
  return { perPage, page, skip: (page - 1) * perPage };
}

/**
 * The `link` header of a page of a list, as GitHub writes it: `prev` and `first` after the
 * first page, `next` and `last` before the last one; none when everything fits on one page.
 */
export function pageLinks(
  url: string,
  query: URLSearchParams,
  page: number,
  total: number,
): Record<string, string> {
  const { perPage } = pageOf(query);
  const last = Math.max(1, Math.ceil(total / perPage));
  const to = (number: number, rel: string) => {
    const target = new URLSearchParams(query);
    target.set('page', String(number));
    return `<${url}?${target}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(to(Math.min(page - 1, last), 'prev'));
  if (page < last) links.push(to(page + 1, 'next'), to(last, 'last'));
  if (page > 1) links.push(to(1, 'first'));
  return links.length > 0 ? { link: links.join(', ') } : {};
}
