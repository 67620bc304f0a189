// beeps.mjs FILE WANT: checks the scan feedback .ci/e2e read from the real
// window (FILE: {beeps, signals, audio}): every signal with sound on started
// its tones in WebAudio (accept: one 1200 Hz sine; refuse: two 220 Hz
// square), and a signal with sound off none. WANT is "sound-on" (at least two
// accepted and one refused scan heard) or "sound-off" (then the last signal
// was a refusal, flashed without a sound).
import { readFileSync } from 'node:fs';

const [file, want] = process.argv.slice(2);
const { beeps, signals, audio } = JSON.parse(readFileSync(file, 'utf8'));
const problems = [];
const heard = (kind) => signals.filter((s) => s.kind === kind && s.sound).length;
const tones = (type, hz) => beeps.filter((b) => b.type === type && b.hz === hz).length;
if (tones('sine', 1200) !== heard('accept'))
  problems.push(`${heard('accept')} accepted scans with sound, ${tones('sine', 1200)} accept tones`);
if (tones('square', 220) !== 2 * heard('refuse'))
  problems.push(`${heard('refuse')} refused scans with sound, ${tones('square', 220)} refuse tones (two each)`);
if (beeps.length !== tones('sine', 1200) + tones('square', 220)) problems.push(`other tones: ${JSON.stringify(beeps)}`);
if (want === 'sound-on' && (heard('accept') < 2 || heard('refuse') < 1))
  problems.push(`want two accepted and one refused scan heard, got ${JSON.stringify(signals)}`);
if (want === 'sound-off') {
  const last = signals[signals.length - 1];
  if (!last || last.kind !== 'refuse' || last.sound) problems.push(`the last signal is not a silent refusal: ${JSON.stringify(last)}`);
}
if (problems.length) {
  console.error(`beeps (${want}, audio ${audio}): ${problems.join('; ')}`);
  process.exit(1);
}
console.log(`beeps (${want}): ${beeps.length} tones for ${signals.length} signals; the page's AudioContext is ${audio}`);
