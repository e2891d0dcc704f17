/**
 * The last lines a child process wrote, kept for error messages: a small ring of complete
 * lines plus the line still being written.
 */
export class OutputTail {
  readonly #limit: number;
  readonly #lines: string[] = [];
  #partial = '';

  /**
   * @param limit - how many complete lines to keep
   * @default limit 40
   */
  constructor(limit = 40) {
    this.#limit = limit;
  }

  /**
   * Appends a chunk of output.
   * @returns the lines this chunk completed, oldest first
   */
  push(chunk: Buffer | string): string[] {
    const parts = (this.#partial + chunk.toString()).split('\n');
    this.#partial = parts.pop() ?? '';
    const completed = parts.map((line) => line.replace(/\r$/, ''));
    this.#lines.push(...completed);
    if (this.#lines.length > this.#limit) this.#lines.splice(0, this.#lines.length - this.#limit);
    return completed;
  }

  /** The kept lines, oldest first, including an unfinished last line if there is one. */
  lines(): string[] {
    return this.#partial === '' ? [...this.#lines] : [...this.#lines, this.#partial];
  }
}
