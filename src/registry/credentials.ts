/**
 * Registry credentials and how each client wants them (pure). The password comes from the
 * environment (`registry.passwordEnv`), is sent only to the configured registry, and is never put
 * into a log line, a record or an error.
 */

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/** The configured registry and, when it needs them, its credentials. */
export interface RegistryAccess {
  /** `host[:port]`, the prefix of every image Gantry builds. */
  readonly address: string;
  readonly credentials?: RegistryCredentials | undefined;
}

/** The engine API's `X-Registry-Auth` object (dockerode's `authconfig`). */
export interface DockerAuthConfig {
  readonly username: string;
  readonly password: string;
  readonly serveraddress: string;
}

/**
 * The registry host of an image reference, Docker's way: the first path component when it has a
 * `.` or `:` or is `localhost`; otherwise Docker Hub.
 */
export function registryOfImage(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

/**
 * The `authconfig` for pushing or pulling `image`: only for an image of the configured registry,
 * so credentials never go to another one (a base image's, an app's own reference).
 */
export function dockerAuthFor(
  image: string,
  access: RegistryAccess | undefined,
): DockerAuthConfig | undefined {
  const creds = access?.credentials;
  if (creds === undefined || registryOfImage(image) !== access?.address) return undefined;
  return { username: creds.username, password: creds.password, serveraddress: access.address };
}

/** The `.dockerconfigjson` of a `kubernetes.io/dockerconfigjson` Secret for `access`. */
export function dockerConfigJson(address: string, creds: RegistryCredentials): string {
  const auth = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
  return JSON.stringify({
    auths: { [address]: { username: creds.username, password: creds.password, auth } },
  });
}

/** The `Authorization` header for the registry's HTTP API (Basic), or undefined without credentials. */
export function basicAuthorization(creds: RegistryCredentials | undefined): string | undefined {
  if (creds === undefined) return undefined;
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

/**
 * Whether an engine's push or pull message says the registry refused the credentials (or their
 * absence): a person must act, so it is not retried.
 */
export function isRegistryAuthFailure(message: string): boolean {
  return /unauthorized|authentication required|no basic auth credentials|denied: requested access|access.+denied/i.test(
    message,
  );
}
