#include <criterion/criterion.h>
Test(contention, placeholder) {}
