// Scan feedback a person notices without looking at the screen (issue 20,
// item 2): every accepted scan gives a short high beep and a full-width
// green flash, every refused one a low double beep and a red flash with the
// sentence. The beep can be turned off per terminal (PrefsService
// scanSoundOff); the flash cannot.
//
// Each signal is also announced as a window event "outpost:feedback"
// ({kind, message, sound}) so the browser tests can count what was seen
// and heard.
import { get, writable } from 'svelte/store';
import { prefs } from '../stores/prefs';

export type FeedbackKind = 'accept' | 'refuse';

export interface Flash {
  kind: FeedbackKind;
  message: string;
  /** seq tells two equal flashes in a row apart (the flash restarts). */
  seq: number;
}

/** flash is the flash on screen now (null: none). */
export const flash = writable<Flash | null>(null);

export interface FeedbackDeps {
  /** soundOn reads the terminal's choice. */
  soundOn: () => boolean;
  /** beep plays the tones; it must not throw. */
  beep: (kind: FeedbackKind) => void;
  /** flashMs: how long the flash stays. */
  flashMs: number;
}

type Ctx = { ctx: AudioContext | null };
const audio: Ctx = { ctx: null };

/** webAudioBeep plays the accept (one 1.2 kHz tone, 90 ms) or refuse (two
 * 220 Hz square tones) signal with WebAudio; silent where there is none. */
export function webAudioBeep(kind: FeedbackKind): void {
  try {
    const g = globalThis as { AudioContext?: typeof AudioContext; webkitAudioContext?: typeof AudioContext };
    const AC = g.AudioContext ?? g.webkitAudioContext;
    if (!AC) return;
    audio.ctx ??= new AC();
    const ctx = audio.ctx;
    if (ctx.state === 'suspended') void ctx.resume().catch(() => {});
    const tones =
      kind === 'accept'
        ? [{ f: 1200, at: 0, d: 0.09 }]
        : [
            { f: 220, at: 0, d: 0.14 },
            { f: 220, at: 0.2, d: 0.14 },
          ];
    for (const t of tones) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = kind === 'accept' ? 'sine' : 'square';
      osc.frequency.value = t.f;
      const start = ctx.currentTime + t.at;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.25, start + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + t.d);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + t.d + 0.02);
    }
  } catch {
    /* no audio device: the flash still shows */
  }
}

/** createFeedback returns accept/refuse over deps (tests pass fakes). */
export function createFeedback(deps: FeedbackDeps) {
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  function signal(kind: FeedbackKind, message: string) {
    const sound = deps.soundOn();
    if (sound) deps.beep(kind);
    const f = { kind, message, seq: ++seq };
    flash.set(f);
    clearTimeout(timer);
    timer = setTimeout(() => flash.update((x) => (x?.seq === f.seq ? null : x)), kind === 'refuse' ? deps.flashMs * 3 : deps.flashMs);
    try {
      globalThis.dispatchEvent?.(new CustomEvent('outpost:feedback', { detail: { kind, message, sound } }));
    } catch {
      /* no window */
    }
  }
  return {
    /** accept: a scan was taken (a record saved, a person signed in). */
    accept: (message = '') => signal('accept', message),
    /** refuse: a scan was refused; message says why, in a sentence. */
    refuse: (message: string) => signal('refuse', message),
  };
}

export const feedback = createFeedback({
  soundOn: () => !get(prefs).scanSoundOff,
  beep: webAudioBeep,
  flashMs: 600,
});
