/**
 * Gantry patches, scales and deletes only objects it made: same-named objects someone else made
 * (another tool, a person, a Helm release) are refused by name rather than adopted, so a name
 * clash never rewrites what Gantry does not own. Ownership is read from the labels Gantry writes.
 */
import { GantryError } from '../../errors.js';
import { LABEL, MANAGED_BY } from './names.js';

/** Whether `labels` carry every one of `expected` (Gantry's managed-by label among them). */
export function isManagedAs(
  labels: Readonly<Record<string, string>> | undefined,
  expected: Readonly<Record<string, string>>,
): boolean {
  const l = labels ?? {};
  return l[LABEL.managed] === MANAGED_BY && Object.entries(expected).every(([k, v]) => l[k] === v);
}

/**
 * Throws GANTRY_ERR_INSTANCE_CONFLICT naming the object when it is not Gantry's for `expected`
 * (labels such as the app, environment or route it must belong to).
 */
export function refuseForeign(
  kind: 'replicaset' | 'service' | 'secret',
  name: string,
  namespace: string,
  labels: Readonly<Record<string, string>> | undefined,
  expected: Readonly<Record<string, string>>,
): void {
  if (isManagedAs(labels, expected)) return;
  const owner = labels?.[LABEL.managed];
  throw new GantryError(
    'GANTRY_ERR_INSTANCE_CONFLICT',
    `${kind} ${namespace}/${name} exists but was not created by Gantry for it (${LABEL.managed}=${owner ?? '(none)'}${Object.entries(
      expected,
    )
      .map(([k, v]) => `, expected ${k}=${v}`)
      .join('')}); not adopting it: rename or remove it`,
  );
}
