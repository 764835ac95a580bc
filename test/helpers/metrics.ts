/** Reading the gateway's /metrics text in tests. */

/** The value of one exact series (`name{labels}`), or undefined when it is not there. */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
