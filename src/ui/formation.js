// An environment's process types as the dashboard shows them: how many instances of each should
// run and how many are ready. Pure (importable by Node for its tests).

const WEB = 'web';

/** A count from the status, or undefined when it is not a whole number. */
function count(n) {
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * `[{ name, desired, ready }]` of an environment's status. The reconciler's per-process counts
 * (`status.processes`, a list of `{ name, desired, ready }` or a map by name) when it writes them;
 * otherwise derived from what every status has: the desired replicas (of `web`, the one process
 * of a spec without `processes:`) and the instances, each of its `process` (`web` when unlabelled)
 * and ready when judged healthy. Stray and surplus instances count for no process.
 */
export function processCounts(status) {
  const given = status?.processes;
  if (given && typeof given === 'object') {
    const list = Array.isArray(given)
      ? given
      : Object.entries(given).map(([name, p]) => ({ ...p, name }));
    const out = list
      .filter((p) => typeof p?.name === 'string')
      .map((p) => ({
        name: p.name,
        desired: count(p.desired ?? p.replicas),
        ready: count(p.ready ?? p.healthy) ?? 0,
      }));
    if (out.length > 0) return out;
  }
  const byName = new Map();
  const entry = (name) => {
    if (!byName.has(name)) byName.set(name, { name, desired: undefined, ready: 0 });
    return byName.get(name);
  };
  if (status?.desired) entry(WEB).desired = count(status.desired.replicas);
  for (const i of status?.instances ?? []) {
    if (i.verdict === 'stray' || i.verdict === 'surplus') continue;
    const e = entry(typeof i.process === 'string' && i.process ? i.process : WEB);
    if (i.verdict === 'healthy') e.ready += 1;
  }
  return [...byName.values()];
}

/**
 * The counts a scale form asks for: each process whose input differs from what should run now.
 * `values` maps process name → the text of its input; a blank or malformed entry is an error.
 */
export function formationChange(counts, values) {
  const out = {};
  for (const { name, desired } of counts) {
    const text = String(values[name] ?? '').trim();
    if (!/^\d{1,6}$/.test(text)) throw new Error(`${name}: enter a whole number of instances`);
    const n = Number(text);
    if (n !== desired) out[name] = n;
  }
  if (Object.keys(out).length === 0) throw new Error('Change a count first: nothing differs.');
  return out;
}
