/** Compile-time exhaustiveness for tagged unions; reaching it at run time means a caller lied to the types. */
export function assertNever(value: never): never {
  throw new Error(`unreachable: unexpected ${JSON.stringify(value)}`);
}
