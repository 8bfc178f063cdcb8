import http from 'node:http';

/**
 * Errors as Argo CD's API server writes them: a gRPC status turned into HTTP by grpc-gateway v1
 * (which Argo CD 3.6 still uses), with its code-to-status table and error bodies.
 */

/** The gRPC status codes Argo CD's API answers with. */
export const GrpcCode = {
  Unknown: 2,
  InvalidArgument: 3,
  NotFound: 5,
  PermissionDenied: 7,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  Unauthenticated: 16,
} as const;

export type GrpcCodeNumber = (typeof GrpcCode)[keyof typeof GrpcCode];

/** A gRPC status an operation failed with. */
export interface GrpcStatus {
  code: GrpcCodeNumber;
  message: string;
}

const HTTP_STATUS: Record<GrpcCodeNumber, number> = {
  [GrpcCode.Unknown]: 500,
  [GrpcCode.InvalidArgument]: 400,
  [GrpcCode.NotFound]: 404,
  [GrpcCode.PermissionDenied]: 403,
  [GrpcCode.Unimplemented]: 501,
  [GrpcCode.Internal]: 500,
  [GrpcCode.Unavailable]: 503,
  [GrpcCode.Unauthenticated]: 401,
};

/** The HTTP status grpc-gateway answers a gRPC status with (`runtime.HTTPStatusFromCode`). */
export function httpStatusOf(status: GrpcStatus): number {
  return HTTP_STATUS[status.code];
}

/** The body of a failed unary call: `runtime.DefaultHTTPError` of grpc-gateway v1. */
export function unaryErrorBody(status: GrpcStatus) {
  return { error: status.message, code: status.code, message: status.message };
}

/** The body of a failed stream: the `{"error": …}` chunk of grpc-gateway v1's stream forwarder. */
export function streamErrorBody(status: GrpcStatus) {
  const httpCode = httpStatusOf(status);
  return {
    error: {
      grpc_code: status.code,
      http_code: httpCode,
      message: status.message,
      http_status: http.STATUS_CODES[httpCode],
    },
  };
}

export const noSession: GrpcStatus = {
  code: GrpcCode.Unauthenticated,
  message: 'no session information',
};

export const permissionDenied: GrpcStatus = {
  code: GrpcCode.PermissionDenied,
  message: 'permission denied',
};

/** What Argo CD answers when an application is absent and the request named its project. */
export const applicationNotFound = (name: string): GrpcStatus => ({
  code: GrpcCode.NotFound,
  message: `applications.argoproj.io "${name}" not found`,
});
