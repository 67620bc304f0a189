// @vitest-environment node
// Issue 20, item 6: the Sync screen broke sentences inside words ("co
// mputer"): its facts used word-break: break-all. Long server addresses may
// still wrap anywhere; words wrap at spaces. jsdom lays nothing out, so this
// reads the component's own style rules.
import { describe, expect, it } from 'vitest';
import source from './SyncScreen.svelte?raw';

describe('the Sync screen’s facts', () => {
  it('wrap sentences between words, long addresses anywhere', () => {
    const css = source.slice(source.indexOf('<style>'));
    expect(css).not.toMatch(/break-all/);
    const rule = css.match(/\.facts dd \{([^}]*)\}/)?.[1] ?? '';
    expect(rule).toMatch(/overflow-wrap: anywhere;/);
  });
});
