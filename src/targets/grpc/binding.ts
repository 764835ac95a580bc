/** What a REST request bound to one gRPC method needs at request time: built at load, kept in the snapshot. */
import type protobuf from 'protobufjs';

/** One piece of a path-bound field's value: literal text or a router param. */
export type ValuePart = { readonly literal: string } | { readonly param: string };

export interface PathField {
  /** Dotted field path in the request message (proto or JSON names). */
  readonly field: string;
  /** Joined with "/" to give the value. */
  readonly parts: readonly ValuePart[];
}

export interface HttpBinding {
  readonly httpMethod: string;
  /** The router path (find-my-way syntax), prefix included. */
  readonly path: string;
  /** The rule's template as written, for listings. */
  readonly template: string;
  readonly pathFields: readonly PathField[];
  /** "" = no body, "*" = the whole message, else the field the body fills. */
  readonly body: string;
  /** Query parameters are taken even with body "*" (method routes; annotated rules forbid it, as grpc-gateway does). */
  readonly queryWithWholeBody: boolean;
}

export interface GrpcCall {
  readonly service: string;
  /** "pkg.Service/Method". */
  readonly name: string;
  /** "/pkg.Service/Method", as sent on the wire. */
  readonly path: string;
  readonly requestType: protobuf.Type;
  readonly responseType: protobuf.Type;
  readonly serverStreaming: boolean;
  readonly binding: HttpBinding;
  readonly timeout?: number;
  /** Request headers sent as metadata (lower case), besides x-request-id and traceparent. */
  readonly requestMetadata: readonly string[];
  /** Response metadata keys copied to response headers (lower case). */
  readonly responseMetadata: readonly string[];
}

/** The value of a path-bound field for one request. */
export function pathFieldValue(field: PathField, params: Readonly<Record<string, string | undefined>>): string {
  return field.parts.map((p) => ('literal' in p ? p.literal : (params[p.param] ?? ''))).join('/');
}

/** A gRPC ingress route: calls of `name` become the HTTP request of `rule`. */
export interface IngressCall {
  /** "pkg.Service/Method". */
  readonly name: string;
  readonly requestType: protobuf.Type;
  readonly responseType: protobuf.Type;
  /** The google.api.http rule: method, template as written, body. */
  readonly httpMethod: string;
  readonly template: string;
  readonly body: string;
}
