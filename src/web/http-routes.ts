import type { ApiMethod, HttpRule } from './api-descriptors.js';

/** One HTTP binding of an annotated method. */
export interface HttpRoute {
  /** GET, POST, ... */
  readonly httpMethod: string;
  /** The URL template as annotated, e.g. `/v1/cheese/orders/{order_id}`. */
  readonly template: string;
  readonly method: ApiMethod;
  /** `*` (the whole body is the request), a field name, or empty (no body; fields from the query string). */
  readonly body: string;
  readonly pattern: RegExp;
  /** Request field paths bound by the template's variables, in order. */
  readonly variables: readonly string[];
}

/** A request's route and the values of its path variables. */
export interface RouteMatch {
  route: HttpRoute;
  /** Field path to its (percent-decoded) value. */
  variables: Record<string, string>;
}

/** Routes by URL, built once at start from the descriptors' `google.api.http` annotations. */
export interface HttpRouter {
  /** Every route, for logs and the README. */
  readonly routes: readonly HttpRoute[];
  /** The route for a method and path; `method-not-allowed` when the path exists only for other methods. */
  match(httpMethod: string, path: string): RouteMatch | 'method-not-allowed' | undefined;
}

const VERBS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * Compiles the annotated methods of `methods` into a router (a client
 * stream takes newline-delimited JSON, one message a line). Only
 * methods `hosted` accepts are routed, so a service config turns off has no
 * routes.
 */
export function buildHttpRouter(methods: Iterable<ApiMethod>, hosted: (path: string) => boolean): HttpRouter {
  const routes: HttpRoute[] = [];
  for (const method of methods) {
    if (method.http === undefined || !hosted(method.path)) continue;
    for (const rule of [method.http, ...(method.http.additional_bindings ?? [])]) {
      const route = compileRule(method, rule);
      if (route !== undefined) routes.push(route);
    }
  }
  return {
    routes,
    match(httpMethod, path) {
      let otherMethod = false;
      for (const route of routes) {
        const found = route.pattern.exec(path);
        if (found === null) continue;
        if (route.httpMethod !== httpMethod) {
          otherMethod = true;
          continue;
        }
        const variables: Record<string, string> = {};
        route.variables.forEach((field, index) => {
          variables[field] = decodeURIComponent(found[index + 1]!);
        });
        return { route, variables };
      }
      return otherMethod ? 'method-not-allowed' : undefined;
    },
  };
}

function compileRule(method: ApiMethod, rule: HttpRule): HttpRoute | undefined {
  const verb = VERBS.find((name) => typeof rule[name] === 'string' && rule[name] !== '');
  const httpMethod = verb?.toUpperCase() ?? rule.custom?.kind?.toUpperCase();
  const template = verb !== undefined ? rule[verb]! : rule.custom?.path;
  if (httpMethod === undefined || template === undefined) return undefined;
  const variables: string[] = [];
  let source = '';
  let last = 0;
  for (const found of template.matchAll(/\{([a-zA-Z0-9_.]+)(?:=([^}]*))?\}/g)) {
    source += escapeLiteral(template.slice(last, found.index));
    variables.push(found[1]!);
    source += found[2] === '**' ? '(.+?)' : '([^/]+?)';
    last = found.index + found[0].length;
  }
  source += escapeLiteral(template.slice(last));
  return Object.freeze({ httpMethod, template, method, body: rule.body ?? '', pattern: new RegExp(`^${source}$`), variables });
}

function escapeLiteral(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
