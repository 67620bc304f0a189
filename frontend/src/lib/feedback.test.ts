import { get } from 'svelte/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFeedback, flash, type FeedbackKind } from './feedback';

afterEach(() => {
  vi.useRealTimers();
  flash.set(null);
});

describe('scan feedback', () => {
  it('beeps and flashes on accept and refuse, announces both, and stays quiet when the sound is off', () => {
    vi.useFakeTimers();
    let on = true;
    const beeps: FeedbackKind[] = [];
    const seen: { kind: string; sound: boolean; message: string }[] = [];
    const listen = (e: Event) => seen.push((e as CustomEvent).detail);
    window.addEventListener('outpost:feedback', listen);
    const f = createFeedback({ soundOn: () => on, beep: (k) => beeps.push(k), flashMs: 100 });

    f.accept();
    expect(get(flash)?.kind).toBe('accept');
    vi.advanceTimersByTime(150);
    expect(get(flash)).toBeNull();

    f.refuse('P-999 is not a product of this site.');
    expect(get(flash)).toMatchObject({ kind: 'refuse', message: 'P-999 is not a product of this site.' });
    vi.advanceTimersByTime(150);
    expect(get(flash)?.kind, 'a refusal stays longer, to be read').toBe('refuse');
    vi.advanceTimersByTime(200);
    expect(get(flash)).toBeNull();

    on = false;
    f.refuse('again');
    expect(beeps).toEqual(['accept', 'refuse']);
    expect(seen.map((s) => `${s.kind}:${s.sound}`)).toEqual(['accept:true', 'refuse:true', 'refuse:false']);
    window.removeEventListener('outpost:feedback', listen);
  });
});
