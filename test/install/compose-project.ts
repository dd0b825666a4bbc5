/**
 * A docker-compose project of the repo's docker-compose.yml under its own name, ports and volumes,
 * driven with the compose binary a user would run (Debian's docker-compose v1, or the plugin).
 * Every command gets only the variables given here and PATH/HOME: nothing from the test runner's
 * environment satisfies a `${VAR:?}` by accident.
 */
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** `docker-compose` (v1, Debian's) or the `docker compose` plugin, whichever is installed. */
export function composeCommand(): string[] | undefined {
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0)
    return ['docker-compose'];
  if (spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0)
    return ['docker', 'compose'];
  return undefined;
}

export class ComposeProject {
  private readonly argv: string[];

  constructor(
    readonly root: string,
    readonly name: string,
    readonly env: Readonly<Record<string, string>>,
  ) {
    const cmd = composeCommand();
    if (!cmd) throw new Error('neither docker-compose nor `docker compose` is installed');
    this.argv = cmd;
  }

  /** The same project with some variables changed (an upgrade's new GANTRY_IMAGE). */
  with(env: Readonly<Record<string, string>>): ComposeProject {
    return new ComposeProject(this.root, this.name, { ...this.env, ...env });
  }

  /** The environment of a compose command (also what deploy/compose/*.sh read). */
  processEnv(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      COMPOSE_PROJECT_NAME: this.name,
      COMPOSE_FILE: path.join(this.root, 'docker-compose.yml'),
      ...this.env,
    };
  }

  /** Runs `docker-compose ARGS…` in the repo and returns its stdout; throws with its stderr. */
  async run(...args: string[]): Promise<string> {
    const [cmd, ...pre] = this.argv;
    try {
      const { stdout } = await exec(cmd!, [...pre, ...args], {
        cwd: this.root,
        env: this.processEnv(),
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(
        `${this.argv.join(' ')} ${args.join(' ')} failed: ${err.stderr ?? err.message}`,
        { cause: e },
      );
    }
  }

  /** Runs a script of deploy/compose/ (backup.sh, restore.sh) as a user would, in this project. */
  async script(name: string, ...args: string[]): Promise<string> {
    const { stdout } = await exec('bash', [path.join('deploy/compose', name), ...args], {
      cwd: this.root,
      env: this.processEnv(),
    });
    return stdout;
  }

  /** The container of `service` (running or not), if there is one. */
  async container(service: string): Promise<string | undefined> {
    const id = (await this.run('ps', '-q', service)).trim();
    return id || undefined;
  }

  /** The Docker health status of `service` (`healthy`, `starting`…), or its state if it has none. */
  async health(service: string): Promise<string | undefined> {
    const id = await this.container(service);
    if (!id) return undefined;
    const { stdout } = await exec('docker', [
      'inspect',
      '-f',
      '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}',
      id,
    ]);
    return stdout.trim();
  }

  /** `down -v`: the project's containers, network and volumes; nothing else. */
  async remove(): Promise<void> {
    await this.run('down', '-v', '--remove-orphans', '-t', '5');
  }
}
