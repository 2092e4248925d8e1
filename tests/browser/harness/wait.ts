/** Polls `ready` until it holds or `timeoutMs` passes: the suite waits for states, never for fixed times. */
export async function until(
  what: string,
  timeoutMs: number,
  ready: () => boolean | Promise<boolean>,
  everyMs = 100
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await ready()) {
        return;
      }
    } catch (e) {
      last = e;
      if (e instanceof Error && /exited with/.test(e.message)) {
        throw e;
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

interface TextSource {
  innerText(options?: { timeout?: number }): Promise<string>;
}

/** Waits until the element's text matches, failing with the text it last had. */
export async function waitForText(locator: TextSource, expected: string | RegExp, timeoutMs = 45_000): Promise<string> {
  let text = '';
  try {
    await until(`text ${String(expected)}`, timeoutMs, async () => {
      text = await locator.innerText({ timeout: 1_000 });
      return typeof expected === 'string' ? text.includes(expected) : expected.test(text);
    });
  } catch {
    throw new Error(`expected text ${String(expected)} within ${timeoutMs} ms; the element showed:\n${text}`);
  }
  return text;
}
