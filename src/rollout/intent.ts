/** What a person asks of a running rollout; collected by the API and applied once per decision. */
export type Intent =
  | { readonly kind: 'pause' }
  | { readonly kind: 'resume' }
  /** Go back to the old revision; the outcome will be `aborted`. */
  | { readonly kind: 'abort' };
