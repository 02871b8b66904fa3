/** Why a batch cannot go where it was sent (POST /events); `kind` decides the HTTP status. */
export type IngestTargetErrorKind = 'bad_request' | 'not_found' | 'conflict' | 'too_large' | 'unavailable';

export class IngestTargetError extends Error {
  constructor(
    message: string,
    readonly kind: IngestTargetErrorKind,
  ) {
    super(message);
    this.name = 'IngestTargetError';
  }
}
