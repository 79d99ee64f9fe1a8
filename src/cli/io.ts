/** Where a command writes. Injected so tests run commands in-process and read what they print. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** A mistake the user can fix (missing folder, bad file): one line on stderr, exit code 1. */
export class UserError extends Error {
  override readonly name = 'UserError';
}
