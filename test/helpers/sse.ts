/** Reading Server-Sent Events in tests. */

export interface Sse {
  id?: string
  event?: string
  data?: string
}

/** The events of an SSE text (comments such as keep-alives left out). */
export function parseSse(text: string): Sse[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() && !block.startsWith(':'))
    .map((block) => {
      const e: Sse = {}
      for (const line of block.split('\n')) {
        const [k, ...rest] = line.split(': ')
        if (k === 'id' || k === 'event' || k === 'data') e[k] = rest.join(': ')
      }
      return e
    })
}

/** Reads an SSE response until `until` holds for what arrived (or it ends), then lets go. */
export async function readUntil(response: Response, until: (events: Sse[]) => boolean) {
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!until(parseSse(text))) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value)
  }
  await reader.cancel()
  return parseSse(text)
}
