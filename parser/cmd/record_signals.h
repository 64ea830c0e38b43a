/*
 * record_signals.h - how `weft record` passes job-ending signals on to
 * its command (see record_signals.c).  The calls, in order:
 *
 *   weft_forward_prepare()  before creating anything to clean up: the
 *                           signals are blocked and the forwarder set;
 *   weft_forward_restore()  in the child before exec (and in weft record
 *                           when the command cannot be started);
 *   weft_forward_to(pid)    in weft record once the command runs: pending
 *                           and later signals go to it;
 *   weft_forward_stop()     once the command has ended: signals wait;
 *   weft_forward_restore()  once the temporary files are gone: weft
 *                           record's own dispositions and mask are back.
 */
#ifndef WEFT_RECORD_SIGNALS_H
#define WEFT_RECORD_SIGNALS_H

#include <sys/types.h>

void weft_forward_prepare(void);
void weft_forward_to(pid_t pid);
void weft_forward_stop(void);
void weft_forward_restore(void);

#endif
