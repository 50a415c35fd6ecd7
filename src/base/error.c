/* error.c - the error table and the per-thread error message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/error_internal.h"
#include "platform.h"

/* An OS's text for one of its error codes: a line or two. */
#define OS_TEXT_SIZE 256

static _Thread_local char last_message[MP_ERROR_MESSAGE_SIZE];
static _Thread_local int last_os_error;

const char *mp_strerror(int code)
{
    switch (code) {
#define MP_ERROR_TEXT_(name, value, text) case value: return text;
        MP_ERROR_LIST(MP_ERROR_TEXT_)
#undef MP_ERROR_TEXT_
    }
    return "unknown error";
}

const char *mp_errname(int code)
{
    switch (code) {
#define MP_ERROR_NAME_(name, value, text) case value: return "MP_" #name;
        MP_ERROR_LIST(MP_ERROR_NAME_)
#undef MP_ERROR_NAME_
    }
    return "MP_E?";
}

const char *mp_last_error(void)
{
    return last_message;
}

int mp_last_os_error(void)
{
    return last_os_error;
}

/* Messages often quote the previous one (mp_last_error() as an argument),
 * so they are formatted into a scratch buffer before it replaces this one. */
static int record(int code, int oserr, const char message[MP_ERROR_MESSAGE_SIZE])
{
    memcpy(last_message, message, MP_ERROR_MESSAGE_SIZE);
    last_os_error = oserr;
    return code;
}

int mp_raise(int code, const char *fmt, ...)
{
    char message[MP_ERROR_MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return record(code, 0, message);
}

int mp_fail_os(int code, int oserr, const char *fmt, ...)
{
    char message[MP_ERROR_MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);

    char text[OS_TEXT_SIZE];
    mp_os_error_text(oserr, text, sizeof text);
    size_t used = strlen(message);
    snprintf(message + used, sizeof message - used, ": %s (os error %d)", text, oserr);
    return record(code, oserr, message);
}
