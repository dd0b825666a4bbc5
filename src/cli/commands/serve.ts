import { pino, type Logger } from 'pino';
import { loadControllerConfig } from '../../config/controller-config.js';
import { startController, type Controller } from '../../controller.js';
import { errorMessage, isGantryError } from '../../errors.js';

/**
 * `gantry serve`: runs until SIGINT/SIGTERM, then lets active jobs finish. SIGHUP re-reads the
 * config file: repos, tokens and notifications apply at once; an invalid file is logged and the
 * running config kept.
 */
export async function serve(configPath: string): Promise<void> {
  const config = loadControllerConfig(configPath);
  const log = pino({ level: process.env.GANTRY_LOG_LEVEL ?? 'info' });
  const starting = startController(config, { log, configFile: configPath });
  // Installed before the controller is up: a SIGHUP while starting must neither kill the process
  // (the default action) nor be lost; it is applied once the controller runs.
  process.on('SIGHUP', () => {
    void starting.then(
      (controller) => reloadOnSignal(controller, configPath, log),
      () => undefined,
    );
  });
  const controller = await starting;
  const stop = async () => {
    log.info('shutting down: finishing active jobs');
    await controller.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

function reloadOnSignal(controller: Controller, file: string, log: Logger): void {
  log.info({ file }, 'SIGHUP: reloading the config file');
  try {
    controller.reloadConfig();
  } catch (e) {
    // A rejected file was logged with its file:line:col problems by the reload itself; either
    // way the process keeps running on the config it has.
    if (!isGantryError(e, 'GANTRY_ERR_CONFIG_REJECTED'))
      log.error({ err: errorMessage(e) }, 'SIGHUP: config reload failed');
  }
}
