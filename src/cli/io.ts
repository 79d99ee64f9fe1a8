/** Where a command writes. Injected so tests run commands in-process and read what they print. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Raw text to stderr, for a progress line redrawn in place. Absent: no progress display. */
  readonly errRaw?: (text: string) => void;
  /** Whether stderr is a terminal (a progress bar is drawn only there). */
  readonly errIsTTY?: boolean;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  errRaw: (text) => process.stderr.write(text),
  errIsTTY: process.stderr.isTTY,
};

/** A mistake the user can fix (missing folder, bad file): one line on stderr, exit code 1. */
export class UserError extends Error {
  override readonly name = 'UserError';
}
