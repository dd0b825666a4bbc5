/** Exit codes of `gantry`, documented in USAGE and docs/readme/cli.md. */
export const EXIT = {
  ok: 0,
  /** The rollout failed or was aborted; an API error; the controller could not be reached. */
  failed: 1,
  usage: 2,
  /** A newer rollout of the environment took this one's place before it finished. */
  superseded: 3,
  /** Ctrl-C while following (128 + SIGINT, as shells report it); the rollout carries on. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code for a rollout outcome. */
export function exitForOutcome(outcome: string): ExitCode {
  switch (outcome) {
    case 'succeeded':
      return EXIT.ok;
    case 'superseded':
      return EXIT.superseded;
    default:
      return EXIT.failed;
  }
}
