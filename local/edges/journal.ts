import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** An append-only record list with listeners, optionally mirrored to a JSON-lines file so it survives restarts. */
export class Journal<T extends object> {
  readonly #entries: T[] = [];
  readonly #listeners = new Set<(entry: T) => void>();
  readonly #file: string | undefined;

  constructor(dataDir: string | undefined, fileName: string) {
    this.#file = dataDir === undefined ? undefined : join(dataDir, fileName);
    if (this.#file === undefined) return;
    mkdirSync(dataDir as string, { recursive: true });
    if (!existsSync(this.#file)) return;
    const text = readFileSync(this.#file, 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        this.#entries.push(Object.freeze(JSON.parse(line) as T));
      } catch {
        // A torn last line (crash mid-write) is dropped rather than failing the start.
      }
    }
    // Make sure the next record starts on its own line after a torn write.
    if (text.length > 0 && !text.endsWith('\n')) appendFileSync(this.#file, '\n');
  }

  append(entry: T): void {
    const frozen = Object.freeze(entry);
    if (this.#file !== undefined) appendFileSync(this.#file, `${JSON.stringify(frozen)}\n`);
    this.#entries.push(frozen);
    for (const listener of this.#listeners) {
      try {
        listener(frozen);
      } catch (err) {
        // A broken observer must not turn a successful send into an error for the caller.
        console.error('[aws-edges] listener failed:', err);
      }
    }
  }

  list(keep?: (entry: T) => boolean): T[] {
    return keep ? this.#entries.filter(keep) : [...this.#entries];
  }

  subscribe(listener: (entry: T) => void): () => void {
    // Wrapped so that subscribing the same function twice gives two independent subscriptions.
    const wrapped = (entry: T) => listener(entry);
    this.#listeners.add(wrapped);
    return () => {
      this.#listeners.delete(wrapped);
    };
  }
}
