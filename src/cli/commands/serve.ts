import { pino } from 'pino';
import { loadControllerConfig } from '../../config/controller-config.js';
import { startController } from '../../controller.js';

/** `gantry serve`: runs until SIGINT/SIGTERM, then lets active jobs finish. */
export async function serve(configPath: string): Promise<void> {
  const config = loadControllerConfig(configPath);
  const log = pino({ level: process.env.GANTRY_LOG_LEVEL ?? 'info' });
  const controller = await startController(config, { log });
  const stop = async () => {
    log.info('shutting down: finishing active jobs');
    await controller.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
