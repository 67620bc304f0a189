import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import SiteScreen from './SiteScreen.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { siteData, line, person, product } from '../../test/siteFixtures';
import type { SiteData } from '../../lib/api';
import { setLocale } from '../../i18n';

afterEach(() => {
  cleanup();
  removeBackend();
  setLocale(null);
});

function backend(data: SiteData, over: { [m: string]: (...a: unknown[]) => Promise<unknown> } = {}) {
  const calls = { saveLine: vi.fn(), savePerson: vi.fn(), saveSettings: vi.fn() };
  installBackend({
    SiteService: {
      Get: () => Promise.resolve(data),
      SaveLine: (l: unknown) => {
        calls.saveLine(l);
        return Promise.resolve(line((l as { code: string }).code));
      },
      SavePerson: (p: unknown) => {
        calls.savePerson(p);
        return Promise.resolve(person('B-1', 'Ana Lima'));
      },
      SaveSettings: (s: unknown) => {
        calls.saveSettings(s);
        return Promise.resolve({ ...data.settings, ...(s as object), configured: true });
      },
      ...over,
    },
  });
  return calls;
}

describe('SiteScreen', () => {
  it('is read-only with the reason when this terminal cannot edit', async () => {
    backend(siteData({ canEdit: false, editBlocked: 'Site data is changed on a manager computer; this one is enrolled as an operator.' }));
    render(SiteScreen);
    expect((await screen.findByTestId('site-readonly')).textContent).toContain('this one is enrolled as an operator');
    expect(screen.queryByTestId('site-add')).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'L1' }));
    expect((screen.getByLabelText('Name') as HTMLInputElement).closest('fieldset')!.disabled).toBe(true);
    expect(screen.queryByTestId('site-save')).toBeNull();
  });

  it('lists lines with their state, pending rows marked', async () => {
    backend(siteData({ lines: [line('L1'), line('L2', { pending: true }), line('L3', { active: false, syncState: 'rejected' })] }));
    render(SiteScreen);
    const table = await screen.findByRole('table', { name: 'Production lines' });
    const row2 = within(table).getByTestId('site-row-L2');
    expect(within(row2).getByTestId('not-synced').textContent).toBe('Not synced');
    const row3 = within(table).getByTestId('site-row-L3');
    expect(row3.textContent).toContain('Inactive');
    expect(within(row3).getByTestId('needs-attention')).toBeTruthy();
  });

  it('adds a line; a Go field error lands beside its field', async () => {
    backend(siteData(), {
      SaveLine: (l: unknown) =>
        (l as { code: string }).code === 'L5'
          ? Promise.reject({ code: 'invalid_value', field: 'name', message: 'Name is 200 characters long; the limit is 128.' })
          : Promise.resolve(line('L7')),
    });
    render(SiteScreen);
    await fireEvent.click(await screen.findByTestId('site-add'));
    await fireEvent.click(screen.getByTestId('site-save'));
    expect(screen.getByTestId('error-sd-code').textContent).toBe('Code is required.');
    expect(screen.getByTestId('error-sd-name').textContent).toBe('Name is required.');
    await fireEvent.input(screen.getByLabelText('Code'), { target: { value: 'L5' } });
    await fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'x' } });
    await fireEvent.click(screen.getByTestId('site-save'));
    await vi.waitFor(() => expect(screen.getByTestId('error-sd-name').textContent).toBe('Name is 200 characters long; the limit is 128.'));
    expect(document.activeElement?.id).toBe('sd-name');
  });

  it('edits a product: the code is fixed, active can be switched off', async () => {
    const saveProduct = vi.fn((p: unknown) => Promise.resolve(p));
    backend(siteData(), { SaveProduct: saveProduct });
    render(SiteScreen);
    await fireEvent.click(await screen.findByTestId('site-tab-products'));
    await fireEvent.click(screen.getByRole('button', { name: 'P-100' }));
    expect((screen.getByLabelText('Code') as HTMLInputElement).readOnly).toBe(true);
    await fireEvent.click(screen.getByLabelText('Active'));
    await fireEvent.input(screen.getByLabelText('Unit'), { target: { value: 'kg' } });
    await fireEvent.click(screen.getByTestId('site-save'));
    await vi.waitFor(() => expect(saveProduct).toHaveBeenCalled());
    expect(saveProduct.mock.calls[0][0]).toEqual({ code: 'P-100', name: 'Product P-100', unit: 'kg', active: false });
  });

  it('people: role, PIN set / kept / cleared, never shown back', async () => {
    const calls = backend(siteData());
    render(SiteScreen);
    await fireEvent.click(await screen.findByTestId('site-tab-people'));
    const row = screen.getByTestId('site-row-B-9');
    expect(row.textContent).toContain('PIN set');
    await fireEvent.click(within(row).getByRole('button', { name: 'Max Weber' }));
    expect(screen.getByTestId('pin-set')).toBeTruthy();
    const pin = screen.getByLabelText('New PIN') as HTMLInputElement;
    expect(pin.type).toBe('password');
    expect(pin.value).toBe('');
    // Empty keeps the PIN: no pin in the input.
    await fireEvent.click(screen.getByTestId('site-save'));
    await vi.waitFor(() => expect(calls.savePerson).toHaveBeenCalledTimes(1));
    expect(calls.savePerson.mock.calls[0][0]).toEqual({
      badgeId: 'B-9',
      displayName: 'Max Weber',
      role: 'manager',
      language: '',
      active: true,
    });
    await vi.waitFor(() => expect((screen.getByTestId('site-save') as HTMLButtonElement).disabled).toBe(false));
    // A short PIN is refused beside the field: a manager's has 6 digits.
    await fireEvent.input(pin, { target: { value: '12345' } });
    await fireEvent.click(screen.getByTestId('site-save'));
    expect(screen.getByTestId('error-sp-pin').textContent).toBe("A manager's PIN has at least 6 digits.");
    // Letters never get in; a good PIN is sent, then the field is emptied.
    await fireEvent.input(pin, { target: { value: '12a3456' } });
    expect(pin.value).toBe('123456');
    await fireEvent.click(screen.getByTestId('site-save'));
    await vi.waitFor(() => expect(calls.savePerson).toHaveBeenCalledTimes(2));
    expect(calls.savePerson.mock.calls[1][0]).toMatchObject({ badgeId: 'B-9', pin: '123456' });
    await vi.waitFor(() => expect((screen.getByTestId('site-save') as HTMLButtonElement).disabled).toBe(false));
    expect((screen.getByLabelText('New PIN') as HTMLInputElement).value).toBe('');
    // Remove the PIN: pin "".
    await fireEvent.click(screen.getByTestId('person-pin-clear'));
    await fireEvent.click(screen.getByTestId('site-save'));
    await vi.waitFor(() => expect(calls.savePerson).toHaveBeenCalledTimes(3));
    expect(calls.savePerson.mock.calls[2][0]).toMatchObject({ pin: '' });
  });

  it('a new person with a role that needs a PIN is warned, and the role is a select', async () => {
    backend(siteData());
    render(SiteScreen);
    await fireEvent.click(await screen.findByTestId('site-tab-people'));
    await fireEvent.click(screen.getByTestId('site-add'));
    await fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'Eva' } });
    expect(screen.queryByTestId('person-pin-needed')).toBeNull();
    const role = screen.getByLabelText('Role') as HTMLSelectElement;
    expect([...role.options].map((o) => o.textContent)).toEqual(['Operator', 'Supervisor', 'Manager']);
    await fireEvent.change(role, { target: { value: 'supervisor' } });
    expect(screen.getByTestId('person-pin-needed').textContent).toContain('Eva cannot sign in');
  });

  it('settings: checks beside the fields, then saves with the Go field errors placed', async () => {
    backend(siteData(), {
      SaveSettings: () =>
        Promise.reject({ code: 'invalid_value', field: 'time_zone', message: 'Time zone “Mars/Base” is not a known time zone.' }),
    });
    render(SiteScreen);
    await fireEvent.click(await screen.findByTestId('site-tab-settings'));
    const shifts = screen.getByLabelText('Shifts') as HTMLInputElement;
    expect(shifts.value).toBe('Early=06:00,Late=14:00,Night=22:00');
    await fireEvent.input(shifts, { target: { value: 'Early=06:00,Late=6:00' } });
    await fireEvent.input(screen.getByLabelText('Idle sign-out (seconds)'), { target: { value: '5' } });
    await fireEvent.click(screen.getByTestId('site-save'));
    expect(screen.getByTestId('error-st-shifts').textContent).toBe('Two shifts start at 06:00.');
    expect(screen.getByTestId('error-st-idle').textContent).toBe('Idle sign-out must be between 30 and 86,400.');
    await fireEvent.input(shifts, { target: { value: 'Early=06:00,Late=18:00' } });
    await fireEvent.input(screen.getByLabelText('Idle sign-out (seconds)'), { target: { value: '120' } });
    await fireEvent.input(screen.getByLabelText('Time zone'), { target: { value: 'Mars/Base' } });
    await fireEvent.click(screen.getByTestId('st-pin-operator'));
    await fireEvent.click(screen.getByTestId('site-save'));
    await vi.waitFor(() => expect(screen.getByTestId('error-st-tz').textContent).toBe('Time zone “Mars/Base” is not a known time zone.'));
    expect(document.activeElement?.id).toBe('st-tz');
  });

  it('settings are sent with numbers and the roles in order', async () => {
    const calls = backend(siteData());
    render(SiteScreen);
    await fireEvent.click(await screen.findByTestId('site-tab-settings'));
    await fireEvent.input(screen.getByLabelText('Allowed clock skew (minutes)'), { target: { value: '10' } });
    await fireEvent.click(screen.getByTestId('st-pin-operator'));
    await fireEvent.click(screen.getByTestId('st-pin-supervisor'));
    await fireEvent.click(screen.getByTestId('site-save'));
    await vi.waitFor(() => expect(calls.saveSettings).toHaveBeenCalled());
    expect(calls.saveSettings.mock.calls[0][0]).toEqual({
      timeZone: 'Europe/Berlin',
      shifts: 'Early=06:00,Late=14:00,Night=22:00',
      clockSkewMinutes: 10,
      idleSignOutSeconds: 0,
      pinRoles: ['operator', 'manager'],
    });
  });
  it('names who last changed a row (updated_by is a badge id), the badge id when nobody has it', async () => {
    backend(
      siteData({
        products: [product('P-100', { updatedBy: 'B-9', pending: true }), product('P-200', { updatedBy: 'GONE-1' }), product('P-300')],
        people: [person('B-9', 'Max Weber', { role: 'manager' }), person('B-1', 'Ana Lima', { updatedBy: 'B-9' })],
      }),
    );
    render(SiteScreen);
    await fireEvent.click(await screen.findByTestId('site-tab-products'));
    await fireEvent.click(screen.getByRole('button', { name: 'P-100' }));
    const text = () => screen.getByTestId('site-last-changed').textContent!.replace(/\s+/g, ' ');
    expect(text()).toMatch(/^Last changed \S.* by Max Weber · not yet synced$/);
    expect(screen.getByTestId('site-updated-by').title).toBe('badge B-9');
    await fireEvent.click(screen.getByRole('button', { name: 'P-200' }));
    expect(text()).toMatch(/ by GONE-1$/);
    await fireEvent.click(screen.getByRole('button', { name: 'P-300' }));
    expect(text()).not.toContain(' by ');
    expect(screen.queryByTestId('site-updated-by')).toBeNull();
    await fireEvent.click(screen.getByTestId('site-tab-people'));
    await fireEvent.click(screen.getByRole('button', { name: 'Ana Lima' }));
    expect(text()).toMatch(/ by Max Weber$/);
  });

  it("a person's language (issue 21): listed in its own name, chosen in the form, the terminal's by default", async () => {
    const calls = backend(
      siteData({ people: [person('B-9', 'Max Weber', { role: 'manager', hasPin: true, language: 'pl' }), person('B-1', 'Ana Lima')] }),
    );
    render(SiteScreen);
    await fireEvent.click(await screen.findByTestId('site-tab-people'));
    expect(screen.getByRole('columnheader', { name: 'Language' })).toBeTruthy();
    expect(screen.getByTestId('site-row-B-9').textContent).toContain('Polski');
    await fireEvent.click(screen.getByRole('button', { name: 'Ana Lima' }));
    const lang = screen.getByLabelText('Language') as HTMLSelectElement;
    expect(lang.value).toBe('');
    expect([...lang.options].map((o) => o.textContent)).toEqual([
      'Terminal’s language',
      'English',
      'Deutsch',
      'Français',
      'Español',
      'Português (Brasil)',
      'Polski',
      '中文（简体）',
    ]);
    await fireEvent.change(lang, { target: { value: 'de' } });
    await fireEvent.click(screen.getByTestId('site-save'));
    await vi.waitFor(() => expect(calls.savePerson).toHaveBeenCalledTimes(1));
    expect(calls.savePerson.mock.calls[0][0]).toMatchObject({ badgeId: 'B-1', language: 'de' });
  });

  it('speaks the language shown (issue 21): German tabs, columns, form and checks; the read-only reason from its code', async () => {
    setLocale('de');
    backend(
      siteData({
        canEdit: false,
        editBlocked: "Site data is changed on a manager's computer; this one is enrolled as an operator's.",
        editBlockedCode: 'forbidden',
        editBlockedParams: { rule: 'operator_computer' },
      }),
    );
    render(SiteScreen);
    expect((await screen.findByTestId('site-readonly')).textContent).not.toContain('enrolled as an operator');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Stammdaten');
    await fireEvent.click(screen.getByTestId('site-tab-people'));
    expect(screen.getByTestId('site-tab-people').textContent).toContain('Personen');
    expect(screen.getByRole('columnheader', { name: 'Sprache' })).toBeTruthy();
    expect(screen.getByTestId('site-row-B-9').textContent).toContain('PIN gesetzt');
  });

  it('pseudo-locale (issue 21): every word of every tab and form comes from the message files', async () => {
    setLocale('en-XA');
    const d = siteData({ products: [product('P-100', { minQuantity: 5, maxQuantity: 500, updatedBy: 'B-9' })] });
    backend(d);
    render(SiteScreen);
    // The fixtures' data and the languages' own names are not messages.
    const data = [
      'Max Weber',
      'Ana Lima',
      'Line L1',
      'Line L2',
      'Line L9',
      'Line L10',
      'Product P-100',
      'Product P-OLD',
      'Europe/Berlin',
      'pcs',
    ];
    const untranslated = () => {
      const out: string[] = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!el || el.closest('script, style, datalist, option[lang]')) continue;
        let text = n.textContent ?? '';
        for (const x of data) text = text.split(x).join(' ');
        if (!/\p{L}{2,}/u.test(text) || /\d{1,2}:\d{2}/.test(text)) continue;
        if (!(el.textContent ?? '').includes('⟦')) out.push(text.trim());
      }
      for (const el of document.querySelectorAll('[aria-label], [title]'))
        for (const a of ['aria-label', 'title']) {
          const v = el.getAttribute(a);
          if (v && /\p{L}{2,}/u.test(v) && !v.includes('⟦')) out.push(`${a}=${v}`);
        }
      return out;
    };
    await screen.findByTestId('site-table');
    await fireEvent.click(screen.getByTestId('site-add'));
    expect(untranslated()).toEqual([]);
    await fireEvent.click(screen.getByTestId('site-tab-products'));
    await fireEvent.click(screen.getByTestId('site-row-P-100'));
    expect(untranslated()).toEqual([]);
    await fireEvent.click(screen.getByTestId('site-tab-people'));
    await fireEvent.click(screen.getByTestId('site-row-B-9'));
    expect(untranslated()).toEqual([]);
    await fireEvent.click(screen.getByTestId('site-tab-settings'));
    await fireEvent.input(screen.getByTestId('settings-form').querySelector('#st-shifts')!, { target: { value: '' } });
    await fireEvent.click(screen.getByTestId('site-save'));
    expect(untranslated()).toEqual([]);
  });
});
