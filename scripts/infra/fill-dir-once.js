'use strict';
const fs = require('node:fs');
const path = require('node:path');

/**
 * Fills `dir` once. When `dir/<stampName>` is missing, `fill(tmp)` writes into a fresh temp dir beside it,
 * which is then stamped and renamed into place: a concurrent caller never sees a half-filled directory, and
 * one that loses the race uses the winner's. Returns true when this call filled it. Used for the Kafka
 * broker's jars (scripts/infra) and the Esper oracle's jars and classes (scripts/esper-oracle).
 */
function fillDirOnce(dir, stampName, fill) {
  const stamp = path.join(dir, stampName);
  if (fs.existsSync(stamp)) return false;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
    fs.writeFileSync(path.join(tmp, stampName), new Date().toISOString() + '\n');
    if (!fs.existsSync(stamp)) {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(tmp, dir);
    }
  } catch (e) {
    if (!fs.existsSync(stamp)) throw e; // a concurrent caller may have won the race
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return true;
}

module.exports = { fillDirOnce };
