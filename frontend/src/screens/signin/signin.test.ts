import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import SignInScreen from './SignInScreen.svelte';
import { createSignInFlow, noSession } from '../../stores/session';
import type { PersonChoice, Session } from '../../lib/api';

const ana: PersonChoice = { badgeId: 'B-1', displayName: 'Ana Lima', role: 'operator', needsPin: false };
const max: PersonChoice = { badgeId: 'B-9', displayName: 'Max Weber', role: 'manager', needsPin: true };

function setup(signIn?: (b: string, pin: string) => Promise<Session>) {
  const onSignedIn = vi.fn();
  const api = {
    people: vi.fn(() => Promise.resolve([ana, max])),
    identify: vi.fn((b: string) => {
      if (b === 'B-1') return Promise.resolve({ person: ana, needsPin: false, lockedUntil: 0 });
      if (b === 'B-9') return Promise.resolve({ person: max, needsPin: true, lockedUntil: 0 });
      return Promise.reject({ code: 'unknown_badge', message: `Badge “${b}” is not known at this site. Ask a manager to add it.` });
    }),
    signIn: vi.fn(
      signIn ?? ((b: string) => Promise.resolve({ ...noSession, required: true, signedIn: true, person: b === 'B-1' ? ana : max })),
    ),
  };
  const flow = createSignInFlow(api, onSignedIn);
  render(SignInScreen, { flow });
  return { api, onSignedIn };
}

afterEach(() => cleanup());

describe('SignInScreen', () => {
  it('takes a scanned badge in the focused field: keystrokes, then Enter', async () => {
    const { api, onSignedIn } = setup();
    const badge = screen.getByLabelText('Badge') as HTMLInputElement;
    await vi.waitFor(() => expect(document.activeElement).toBe(badge));
    await fireEvent.input(badge, { target: { value: 'B-1 ' } });
    await fireEvent.keyDown(badge, { key: 'Enter' });
    await vi.waitFor(() => expect(onSignedIn).toHaveBeenCalled());
    expect(api.identify).toHaveBeenCalledWith('B-1');
    expect(api.signIn).toHaveBeenCalledWith('B-1', '');
  });

  it('catches a scan while the focus is elsewhere', async () => {
    const { api } = setup();
    (document.activeElement as HTMLElement | null)?.blur();
    for (const key of 'B-7') await fireEvent.keyDown(document.body, { key });
    expect((screen.getByLabelText('Badge') as HTMLInputElement).value).toBe('B-7');
    await fireEvent.keyDown(document.body, { key: 'Enter' });
    await vi.waitFor(() =>
      expect(screen.getByTestId('signin-error').textContent).toBe('Badge “B-7” is not known at this site. Ask a manager to add it.'),
    );
    expect(api.identify).toHaveBeenCalledWith('B-7');
    expect(screen.getByTestId('signin-error').dataset.code).toBe('unknown_badge');
  });

  it('pick a name, then the PIN by pad and keyboard, masked', async () => {
    const { api, onSignedIn } = setup();
    await fireEvent.click(await screen.findByRole('button', { name: /Max Weber/ }));
    await screen.findByTestId('pin-pad');
    expect(screen.getByTestId('signin-pin-name').textContent).toBe('Max Weber');
    await fireEvent.click(screen.getByTestId('pin-key-1'));
    await fireEvent.click(screen.getByRole('button', { name: '2' }));
    await fireEvent.keyDown(window, { key: '3' });
    await fireEvent.keyDown(window, { key: '9' });
    await fireEvent.click(screen.getByRole('button', { name: 'Delete last digit' }));
    await fireEvent.keyDown(window, { key: '4' });
    const display = screen.getByTestId('pin-display');
    expect(display.dataset.length).toBe('4');
    expect(display.textContent).not.toMatch(/\d/); // never the digits
    await fireEvent.keyDown(window, { key: 'Enter' });
    await vi.waitFor(() => expect(onSignedIn).toHaveBeenCalled());
    expect(api.signIn).toHaveBeenCalledWith('B-9', '1234');
  });

  it('a wrong PIN says how many attempts are left and empties the pad', async () => {
    setup(() => Promise.reject({ code: 'wrong_pin', message: 'Wrong PIN. 4 attempts left.' }));
    await fireEvent.click(await screen.findByTestId('person-B-9'));
    await screen.findByTestId('pin-pad');
    for (const key of '1111') await fireEvent.keyDown(window, { key });
    await fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await vi.waitFor(() => expect(screen.getByTestId('signin-error').textContent).toBe('Wrong PIN. 4 attempts left.'));
    expect(screen.getByTestId('pin-display').dataset.length).toBe('0');
    await fireEvent.click(screen.getByTestId('signin-back'));
    expect(screen.getByLabelText('Badge')).toBeTruthy();
  });
});
