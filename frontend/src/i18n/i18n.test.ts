import { afterEach, describe, expect, it } from 'vitest';
import { flushSync } from 'svelte';
import { applyPersonLanguage, currentLocale, matchLocale, setLocale, setManagedDefault, t, tDynamic, terminalLocale } from '.';
import { pseudoLocalize } from './pseudo';

afterEach(() => {
  setLocale(null);
  setManagedDefault(null);
  applyPersonLanguage(null);
});

describe('i18n', () => {
  it('speaks English unless someone chose', () => {
    expect(currentLocale()).toBe('en');
    expect(t('language.label')).toBe('Language');
  });

  it('falls back to English for a message a language lacks, and knows no unknown key', () => {
    setLocale('de');
    expect(typeof t('language.label')).toBe('string');
    expect(tDynamic('no.such.key')).toBeNull();
  });

  it('puts a person before the terminal and IT, and goes back at sign-out', () => {
    setManagedDefault('fr-FR');
    expect(currentLocale()).toBe('fr');
    setLocale('es');
    expect(currentLocale()).toBe('es');
    applyPersonLanguage('pl-PL');
    expect(currentLocale()).toBe('pl');
    expect(terminalLocale()).toBe('es');
    applyPersonLanguage(null);
    expect(currentLocale()).toBe('es');
    applyPersonLanguage('ja');
    expect(currentLocale()).toBe('es');
    setLocale(null);
    expect(currentLocale()).toBe('fr');
    flushSync();
    expect(document.documentElement.lang).toBe('fr');
  });

  it('remembers the terminal choice', () => {
    setLocale('pt-BR');
    expect(localStorage.getItem('outpost.language.v1')).toBe('pt-BR');
  });

  it('matches language tags', () => {
    expect(matchLocale('de-AT')).toBe('de');
    expect(matchLocale('pt')).toBe('pt-BR');
    expect(matchLocale('PT_br')).toBe('pt-BR');
    expect(matchLocale('zh-Hans-CN')).toBe('zh-CN');
    expect(matchLocale('zh-TW')).toBeNull();
    expect(matchLocale('')).toBeNull();
    expect(matchLocale('en-XA')).toBe('en-XA');
  });
});

describe('pseudo-locale', () => {
  it('wraps, accents and lengthens text but keeps ICU arguments', () => {
    const p = pseudoLocalize('{count, plural, one {# line} other {# lines}} on {name}');
    expect(p.startsWith('⟦') && p.endsWith('⟧')).toBe(true);
    expect(p).toContain('{count, plural, one {#');
    expect(p).toContain('{name}');
    expect(p).toContain('ļ');
    const plain = pseudoLocalize('Save the record');
    expect(plain.length - 2).toBeGreaterThanOrEqual(Math.ceil('Save the record'.length * 1.35));
  });

  it('formats like English', () => {
    setLocale('en-XA');
    const s = t('language.label');
    expect(s).toMatch(/^⟦Ļ.*⟧$/);
  });
});
