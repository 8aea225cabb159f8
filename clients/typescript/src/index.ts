/**
 * A typed client of the Posts API: `openapi-fetch` over the types `openapi-typescript`
 * generates from the committed `openapi.json` (`src/schema.d.ts`; `npm run generate`).
 *
 * Every path, parameter, body and response is typed from the document: a wrong field or a
 * missing parameter is a compile error. What is added here is what the document cannot say:
 * the bearer token on every request, the login form, and reading the `Link` header.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, paths } from "./schema.js";
export type Post = components["schemas"]["PostOut"];
export type PostWithVotes = components["schemas"]["PostWithVotesOut"];
export type Token = components["schemas"]["Token"];

export interface PostsClientOptions {
  /** Where the API is, e.g. `https://api.example.com` (no trailing slash). */
  baseUrl: string;
  /** The current access token, read before each request; `undefined` sends none. */
  token?: () => string | undefined;
  /** `fetch` to use (tests, React Native polyfills); the global one by default. */
  fetch?: typeof globalThis.fetch;
}

export type PostsClient = Client<paths>;

/** A client whose every request carries `Authorization: Bearer <token>` when there is one. */
export function createPostsClient(options: PostsClientOptions): PostsClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const auth: Middleware = {
    onRequest({ request }) {
      const token = options.token?.();
      if (token && !request.headers.has("Authorization")) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  };
  client.use(auth);
  return client;
}

/**
 * `POST /login`: the OAuth2 password form (the username is the email). The token pair, or the
 * error body with the response.
 */
export function login(client: PostsClient, email: string, password: string) {
  return client.POST("/login", {
    body: { username: email, password, grant_type: "password" },
    bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
}

/** The URLs of an RFC 8288 `Link` header by `rel` (`next`, `prev`). */
export function links(response: Response): Partial<Record<"next" | "prev", string>> {
  const out: Partial<Record<"next" | "prev", string>> = {};
  const header = response.headers.get("Link");
  if (!header) return out;
  for (const part of header.split(/,\s*(?=<)/)) {
    const match = /^<([^>]*)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
    if (match && (match[2] === "next" || match[2] === "prev")) {
      out[match[2]] = match[1];
    }
  }
  return out;
}

/** The `cursor` of a `Link` URL, to pass back as the `cursor` query parameter. */
export function cursorOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  return new URL(url, "http://relative.invalid").searchParams.get("cursor") ?? undefined;
}

/**
 * Every visible post, newest first, page by page through the `Link` header's `next` cursors:
 * what an infinite scroll does, one page per `next()`.
 */
export async function* allPosts(
  client: PostsClient,
  query: { limit?: number; search?: string } = {},
): AsyncGenerator<PostWithVotes[], void, void> {
  let cursor: string | undefined;
  do {
    const { data, error, response } = await client.GET("/posts/", {
      params: { query: { ...query, ...(cursor ? { cursor } : {}) } },
    });
    if (error || !data) {
      throw new Error(`GET /posts/ answered ${response.status}: ${JSON.stringify(error)}`);
    }
    yield data;
    cursor = cursorOf(links(response).next);
  } while (cursor);
}
