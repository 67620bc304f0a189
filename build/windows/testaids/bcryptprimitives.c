/*
 * A test-only bcryptprimitives.dll for Wine 8, never shipped (issue 22).
 *
 * Go 1.24 and later get their randomness from ProcessPrng in
 * bcryptprimitives.dll (Windows 10 and later), which Wine 8 lacks: every Go
 * program then dies at start. This DLL exports ProcessPrng over RtlGenRandom
 * (advapi32's SystemFunction036), which Wine has, so that the Windows test
 * binaries can run under Wine in `make package-test`. Built there with mingw
 * and put into the throwaway Wine prefix's system32 only.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
	while (size > 0) {
		ULONG n = size > 0x40000000 ? 0x40000000 : (ULONG)size;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		size -= n;
	}
	return TRUE;
}
