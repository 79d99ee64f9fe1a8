import { spawnSync } from 'node:child_process';

/** CI installs promtool and prometheus (scripts/ci-deps.sh); there a missing one fails the test. */
export const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== '0' && process.env.CI !== 'false';

export function installed(command: string): boolean {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Why a suite that needs `command` is skipped, or null when it runs (always in CI). */
export function skipReason(command: string): string | null {
  if (installed(command) || IN_CI) return null;
  return `${command} is not installed (Debian package prometheus; scripts/ci-deps.sh installs it)`;
}
