export interface ApiVersionRow {
  api: string;
  key: number;
  /** Highest version kafkajs implements. */
  clientMax: number;
  brokerMin: number | null;
  brokerMax: number | null;
  /** Version kafkajs will actually send. */
  used: number | null;
  /** The broker accepts `used`. */
  ok: boolean;
}
/** Which protocol version kafkajs uses for each API against `brokers`, and whether the broker accepts it. */
export function checkKafkajsApiVersions(brokers: string[]): Promise<{ kafkajs: string; rows: ApiVersionRow[] }>;
export function formatRows(rows: ApiVersionRow[]): string;
