/*
 * bcryptprimitives.dll for Wine versions that lack it (Wine 8, Debian 12's): Rust's standard
 * library (1.78 and later) takes its random bytes from ProcessPrng in this DLL, so without it
 * every Rust program stops before main() with "bcryptprimitives.dll not found". Windows 8 and
 * later, and Wine 9 and later, have the real one; this is only put into the test prefix under
 * target/ by scripts/wine-env.sh, and never shipped.
 *
 * ProcessPrng fills the buffer from the system's generator (BCryptGenRandom, which Wine has).
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
