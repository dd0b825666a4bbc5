import { it } from 'vitest';
import { startApiController } from '../support/api-controller.js';
it('dump', async () => {
  const api = await startApiController();
  const doc = await (await api.get('/docs/json', null)).json() as { paths: Record<string, Record<string, { summary?: string; tags?: string[]; responses?: unknown }>> };
  for (const [p, ops] of Object.entries(doc.paths)) for (const [m, op] of Object.entries(ops)) console.log(m.toUpperCase(), p, '|', op.tags?.join(','), '|', op.summary ?? '(no summary)', '|', Object.keys(op.responses ?? {}).join(','));
  await api.close();
});
