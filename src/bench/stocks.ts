/** Reads the stock time-and-sales dataset (../shared/datasets/stocks) into events. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface StockEvent {
  [field: string]: unknown;
  type: 'BUY' | 'SELL';
  symbol: string;
  seq: number;
  volume: number;
  price: number;
  timestamp: number;
}

export const STOCKS_FILE = resolve(__dirname, '../../../shared/datasets/stocks/time-and-sales-2008.txt.gz');

/** `HH:MM:SS.mmm` where the part after the dot is a millisecond count written without leading zeros. */
export function timeOfDayMs(text: string): number {
  const [hms, frac = '0'] = text.split('.');
  const [h, m, s] = hms.split(':').map(Number);
  return ((h * 60 + m) * 60 + s) * 1000 + Number(frac);
}

export function parseStockLine(line: string): StockEvent | undefined {
  const f = line.trim().split(/\s+/);
  if (f.length < 6) return undefined;
  return {
    type: f[5] === 'B' ? 'BUY' : 'SELL',
    symbol: f[0],
    seq: Number(f[1]),
    volume: Number(f[2]),
    price: Number(f[3]),
    timestamp: timeOfDayMs(f[4]),
  };
}

export function loadStocks(file = STOCKS_FILE): StockEvent[] {
  const text = gunzipSync(readFileSync(file)).toString('utf8');
  const out: StockEvent[] = [];
  for (const line of text.split('\n')) {
    const e = parseStockLine(line);
    if (e) out.push(e);
  }
  return out;
}
