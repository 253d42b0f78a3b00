/* hello - start-up time and memory of a minimal WASI command. */
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("hello world\n");
    return 0;
}
