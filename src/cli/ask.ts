/** Questions on the terminal, for the commands that confirm before destroying. */

/** A question on the terminal; undefined when stdin is not a TTY (scripts must pass the answer as a flag). */
export async function askOnTty(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) return undefined;
  const readline = await import('node:readline/promises');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}
