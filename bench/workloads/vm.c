/*
 * vm - a small bytecode interpreter running three programs: the dispatch
 * loop, operand stack and unpredictable indirect branches of a scripting
 * engine embedded in a real module.
 *
 *   vm [SCALE]        runs the programs with sizes proportional to SCALE
 *
 * The machine: 32-bit integer values, an operand stack, frames with 8
 * locals each, a global memory of MEM_WORDS words, a switch-dispatched
 * loop.  The programs are assembled here by a tiny assembler with labels:
 *   - sieve:   counts the primes below 20000 * SCALE (a sieve in memory);
 *   - fib:     recursive fib(18 + SCALE / 4) through CALL/RET;
 *   - collatz: the longest Collatz chain for starts below 3000 * SCALE,
 *              with a memo table in memory.
 * Each result is checked against the same computation in C (exit 1 on a
 * difference); the checksum line has the three results and the number of
 * instructions executed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SCALE 32
#define MEM_WORDS (1 << 20)
#define STACK_MAX 4096
#define FRAMES_MAX 4096
#define NLOCALS 8
#define CODE_MAX 1024
#define LABELS_MAX 64

enum op {
    OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_LOAD, OP_STORE, OP_GLOAD, OP_GSTORE,
    OP_ADD, OP_SUB, OP_MUL, OP_DIVU, OP_MODU, OP_AND, OP_SHR, OP_LTU, OP_EQ,
    OP_JMP, OP_JZ, OP_JNZ, OP_CALL, OP_RET, OP_INC,
};

typedef struct insn {
    uint8_t op;
    int32_t arg;           /* immediate, local index, or code address */
} insn;

/* ---- Assembler ------------------------------------------------------------- */

typedef struct prog {
    insn code[CODE_MAX];
    int n;
    int label_at[LABELS_MAX];    /* address of each label, -1 until placed */
    int fix_at[CODE_MAX];        /* instructions whose arg is a label number */
    int nfix;
} prog;

static void prog_init(prog *p)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < LABELS_MAX; i++)
        p->label_at[i] = -1;
}

static void emit(prog *p, enum op op, int32_t arg)
{
    p->code[p->n].op = (uint8_t)op;
    p->code[p->n].arg = arg;
    p->n++;
}

static void jump(prog *p, enum op op, int label)
{
    p->fix_at[p->nfix++] = p->n;
    emit(p, op, label);
}

static void place(prog *p, int label)
{
    p->label_at[label] = p->n;
}

static void link_labels(prog *p)
{
    for (int i = 0; i < p->nfix; i++)
        p->code[p->fix_at[i]].arg = p->label_at[p->code[p->fix_at[i]].arg];
}

/* ---- The machine ------------------------------------------------------------- */

static uint32_t mem[MEM_WORDS];
static uint64_t executed;

typedef struct frame {
    int ret;
    uint32_t locals[NLOCALS];
} frame;

/* Runs from address 0 until HALT; returns the top of the stack (0 if empty), or traps with exit 1. */
static uint32_t run(const prog *p, uint32_t arg0)
{
    static uint32_t stack[STACK_MAX];
    static frame frames[FRAMES_MAX];
    int sp = 0, fp = 0, pc = 0;
    uint64_t count = 0;
    memset(&frames[0], 0, sizeof frames[0]);
    frames[0].locals[0] = arg0;
    for (;;) {
        const insn *i = &p->code[pc++];
        count++;
        uint32_t a, b;
        switch (i->op) {
        case OP_HALT:
            executed += count;
            return sp ? stack[sp - 1] : 0;
        case OP_PUSH: stack[sp++] = (uint32_t)i->arg; break;
        case OP_POP: sp--; break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_SWAP: a = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = a; break;
        case OP_LOAD: stack[sp++] = frames[fp].locals[i->arg]; break;
        case OP_STORE: frames[fp].locals[i->arg] = stack[--sp]; break;
        case OP_INC: frames[fp].locals[i->arg] += 1; break;
        case OP_GLOAD:
            a = stack[sp - 1];
            if (a >= MEM_WORDS)
                goto trap;
            stack[sp - 1] = mem[a];
            break;
        case OP_GSTORE:          /* value address -> */
            a = stack[--sp];
            b = stack[--sp];
            if (a >= MEM_WORDS)
                goto trap;
            mem[a] = b;
            break;
        case OP_ADD: b = stack[--sp]; stack[sp - 1] += b; break;
        case OP_SUB: b = stack[--sp]; stack[sp - 1] -= b; break;
        case OP_MUL: b = stack[--sp]; stack[sp - 1] *= b; break;
        case OP_DIVU:
            b = stack[--sp];
            if (!b)
                goto trap;
            stack[sp - 1] /= b;
            break;
        case OP_MODU:
            b = stack[--sp];
            if (!b)
                goto trap;
            stack[sp - 1] %= b;
            break;
        case OP_AND: b = stack[--sp]; stack[sp - 1] &= b; break;
        case OP_SHR: b = stack[--sp]; stack[sp - 1] >>= (b & 31); break;
        case OP_LTU: b = stack[--sp]; stack[sp - 1] = stack[sp - 1] < b; break;
        case OP_EQ: b = stack[--sp]; stack[sp - 1] = stack[sp - 1] == b; break;
        case OP_JMP: pc = i->arg; break;
        case OP_JZ: if (!stack[--sp]) pc = i->arg; break;
        case OP_JNZ: if (stack[--sp]) pc = i->arg; break;
        case OP_CALL:            /* one argument on the stack becomes local 0 of the callee */
            if (fp + 1 == FRAMES_MAX)
                goto trap;
            fp++;
            frames[fp].ret = pc;
            frames[fp].locals[0] = stack[--sp];
            pc = i->arg;
            break;
        case OP_RET:             /* the result stays on the stack */
            pc = frames[fp].ret;
            fp--;
            break;
        default:
            goto trap;
        }
        if (sp < 0 || sp >= STACK_MAX - 1)
            goto trap;
    }
trap:
    printf("vm: trap at %d (op %d)\n", pc - 1, p->code[pc - 1].op);
    exit(1);
}

/* ---- Programs ---------------------------------------------------------------- */

/* sieve(n): primes below n; mem[i] = 1 marks a composite. */
static void asm_sieve(prog *p)
{
    enum { N, I, J, COUNT };
    enum { L_CLEAR, L_CLEARED, L_OUTER, L_DONE, L_INNER, L_NEXT, L_SKIP };
    prog_init(p);
    emit(p, OP_PUSH, 0); emit(p, OP_STORE, I);
    place(p, L_CLEAR);                                   /* for i < n: mem[i] = 0 */
    emit(p, OP_LOAD, I); emit(p, OP_LOAD, N); emit(p, OP_LTU, 0); jump(p, OP_JZ, L_CLEARED);
    emit(p, OP_PUSH, 0); emit(p, OP_LOAD, I); emit(p, OP_GSTORE, 0);
    emit(p, OP_INC, I); jump(p, OP_JMP, L_CLEAR);
    place(p, L_CLEARED);
    emit(p, OP_PUSH, 0); emit(p, OP_STORE, COUNT);
    emit(p, OP_PUSH, 2); emit(p, OP_STORE, I);
    place(p, L_OUTER);
    emit(p, OP_LOAD, I); emit(p, OP_LOAD, N); emit(p, OP_LTU, 0); jump(p, OP_JZ, L_DONE);
    emit(p, OP_LOAD, I); emit(p, OP_GLOAD, 0); jump(p, OP_JNZ, L_SKIP);
    emit(p, OP_INC, COUNT);
    /* nothing to mark unless i * i < n, that is i <= (n - 1) / i (i * i may not fit in 32 bits) */
    emit(p, OP_LOAD, N); emit(p, OP_PUSH, 1); emit(p, OP_SUB, 0); emit(p, OP_LOAD, I); emit(p, OP_DIVU, 0);
    emit(p, OP_LOAD, I); emit(p, OP_LTU, 0); jump(p, OP_JNZ, L_NEXT);
    emit(p, OP_LOAD, I); emit(p, OP_LOAD, I); emit(p, OP_MUL, 0); emit(p, OP_STORE, J);
    place(p, L_INNER);                                   /* for j = i*i; j < n; j += i */
    emit(p, OP_LOAD, J); emit(p, OP_LOAD, N); emit(p, OP_LTU, 0); jump(p, OP_JZ, L_NEXT);
    emit(p, OP_PUSH, 1); emit(p, OP_LOAD, J); emit(p, OP_GSTORE, 0);
    emit(p, OP_LOAD, J); emit(p, OP_LOAD, I); emit(p, OP_ADD, 0); emit(p, OP_STORE, J);
    jump(p, OP_JMP, L_INNER);
    place(p, L_NEXT);
    place(p, L_SKIP);
    emit(p, OP_INC, I); jump(p, OP_JMP, L_OUTER);
    place(p, L_DONE);
    emit(p, OP_LOAD, COUNT); emit(p, OP_HALT, 0);
    link_labels(p);
}

/* fib(n) = n < 2 ? n : fib(n - 1) + fib(n - 2), recursive. */
static void asm_fib(prog *p)
{
    enum { L_FIB, L_BASE };
    prog_init(p);
    emit(p, OP_LOAD, 0); jump(p, OP_CALL, L_FIB); emit(p, OP_HALT, 0);
    place(p, L_FIB);
    emit(p, OP_LOAD, 0); emit(p, OP_PUSH, 2); emit(p, OP_LTU, 0); jump(p, OP_JNZ, L_BASE);
    emit(p, OP_LOAD, 0); emit(p, OP_PUSH, 1); emit(p, OP_SUB, 0); jump(p, OP_CALL, L_FIB);
    emit(p, OP_LOAD, 0); emit(p, OP_PUSH, 2); emit(p, OP_SUB, 0); jump(p, OP_CALL, L_FIB);
    emit(p, OP_ADD, 0); emit(p, OP_RET, 0);
    place(p, L_BASE);
    emit(p, OP_LOAD, 0); emit(p, OP_RET, 0);
    link_labels(p);
}

/*
 * collatz(n): the start below n with the longest chain, times 1024, plus
 * that chain's length (under 1024 for every n this program allows).
 * mem[x] memoizes the length of x's chain for x < n.
 */
static void asm_collatz(prog *p)
{
    enum { N, S, X, STEPS, BEST, BEST_S };
    enum { L_CLEAR, L_CLEARED, L_OUTER, L_DONE, L_WALK, L_WALKED, L_ODD, L_STEP, L_MEMO, L_NOTBEST, L_NOMEMO };
    prog_init(p);
    emit(p, OP_PUSH, 0); emit(p, OP_STORE, S);
    place(p, L_CLEAR);
    emit(p, OP_LOAD, S); emit(p, OP_LOAD, N); emit(p, OP_LTU, 0); jump(p, OP_JZ, L_CLEARED);
    emit(p, OP_PUSH, 0); emit(p, OP_LOAD, S); emit(p, OP_GSTORE, 0);
    emit(p, OP_INC, S); jump(p, OP_JMP, L_CLEAR);
    place(p, L_CLEARED);
    emit(p, OP_PUSH, 0); emit(p, OP_STORE, BEST);
    emit(p, OP_PUSH, 0); emit(p, OP_STORE, BEST_S);
    emit(p, OP_PUSH, 1); emit(p, OP_STORE, S);
    place(p, L_OUTER);
    emit(p, OP_LOAD, S); emit(p, OP_LOAD, N); emit(p, OP_LTU, 0); jump(p, OP_JZ, L_DONE);
    emit(p, OP_LOAD, S); emit(p, OP_STORE, X);
    emit(p, OP_PUSH, 0); emit(p, OP_STORE, STEPS);
    place(p, L_WALK);                                    /* while x != 1 */
    emit(p, OP_LOAD, X); emit(p, OP_PUSH, 1); emit(p, OP_EQ, 0); jump(p, OP_JNZ, L_WALKED);
    /* a memoized x below s ends the walk */
    emit(p, OP_LOAD, X); emit(p, OP_LOAD, S); emit(p, OP_LTU, 0); jump(p, OP_JZ, L_NOMEMO);
    emit(p, OP_LOAD, X); emit(p, OP_GLOAD, 0); emit(p, OP_DUP, 0); jump(p, OP_JNZ, L_MEMO);
    emit(p, OP_POP, 0);
    place(p, L_NOMEMO);
    emit(p, OP_LOAD, X); emit(p, OP_PUSH, 1); emit(p, OP_AND, 0); jump(p, OP_JNZ, L_ODD);
    emit(p, OP_LOAD, X); emit(p, OP_PUSH, 1); emit(p, OP_SHR, 0); emit(p, OP_STORE, X);
    jump(p, OP_JMP, L_STEP);
    place(p, L_ODD);
    emit(p, OP_LOAD, X); emit(p, OP_PUSH, 3); emit(p, OP_MUL, 0); emit(p, OP_PUSH, 1); emit(p, OP_ADD, 0);
    emit(p, OP_STORE, X);
    place(p, L_STEP);
    emit(p, OP_INC, STEPS); jump(p, OP_JMP, L_WALK);
    place(p, L_MEMO);                                    /* steps += mem[x] */
    emit(p, OP_LOAD, STEPS); emit(p, OP_ADD, 0); emit(p, OP_STORE, STEPS);
    place(p, L_WALKED);
    emit(p, OP_LOAD, STEPS); emit(p, OP_LOAD, S); emit(p, OP_GSTORE, 0);
    emit(p, OP_LOAD, BEST); emit(p, OP_LOAD, STEPS); emit(p, OP_LTU, 0); jump(p, OP_JZ, L_NOTBEST);
    emit(p, OP_LOAD, STEPS); emit(p, OP_STORE, BEST);
    emit(p, OP_LOAD, S); emit(p, OP_STORE, BEST_S);
    place(p, L_NOTBEST);
    emit(p, OP_INC, S); jump(p, OP_JMP, L_OUTER);
    place(p, L_DONE);
    emit(p, OP_LOAD, BEST_S); emit(p, OP_PUSH, 1024); emit(p, OP_MUL, 0); emit(p, OP_LOAD, BEST);
    emit(p, OP_ADD, 0); emit(p, OP_HALT, 0);
    link_labels(p);
}

/* ---- The same in C ------------------------------------------------------------ */

static uint32_t c_sieve(uint32_t n)
{
    uint8_t *comp = calloc(n ? n : 1, 1);
    uint32_t count = 0;
    for (uint32_t i = 2; i < n; i++) {
        if (comp[i])
            continue;
        count++;
        for (uint64_t j = (uint64_t)i * i; j < n; j += i)
            comp[j] = 1;
    }
    free(comp);
    return count;
}

static uint32_t c_fib(uint32_t n)
{
    return n < 2 ? n : c_fib(n - 1) + c_fib(n - 2);
}

static uint32_t c_collatz(uint32_t n)
{
    uint32_t *memo = calloc(n ? n : 1, sizeof *memo), best = 0, best_s = 0;
    for (uint32_t s = 1; s < n; s++) {
        uint32_t x = s, steps = 0;
        while (x != 1) {
            if (x < s && memo[x]) {
                steps += memo[x];
                break;
            }
            x = x & 1 ? 3 * x + 1 : x >> 1;
            steps++;
        }
        memo[s] = steps;
        if (best < steps) {
            best = steps;
            best_s = s;
        }
    }
    free(memo);
    return best_s * 1024u + best;
}

static prog programs[3];

int main(int argc, char **argv)
{
    long scale = argc > 1 ? atol(argv[1]) : DEFAULT_SCALE;
    if (scale < 1 || scale > 48) {
        printf("vm: SCALE must be 1..48\n");
        return 2;
    }
    uint32_t n_sieve = 20000u * (uint32_t)scale, n_fib = 18u + (uint32_t)scale / 4, n_coll = 3000u * (uint32_t)scale;
    asm_sieve(&programs[0]);
    asm_fib(&programs[1]);
    asm_collatz(&programs[2]);
    uint32_t r[3], want[3] = { c_sieve(n_sieve), c_fib(n_fib), c_collatz(n_coll) };
    uint32_t arg[3] = { n_sieve, n_fib, n_coll };
    uint64_t h = 14695981039346656037ull;
    for (int round = 0; round < 4; round++) {
        for (int k = 0; k < 3; k++) {
            r[k] = run(&programs[k], arg[k]);
            if (r[k] != want[k]) {
                printf("vm: program %d gave %u, C gives %u\n", k, r[k], want[k]);
                return 1;
            }
            h = (h ^ r[k]) * 1099511628211ull;
        }
    }
    printf("vm scale=%ld primes=%u fib=%u collatz=%u/%u insns=%llu hash=%016llx\n", scale, r[0], r[1], r[2] >> 10,
           r[2] & 0x3ff, (unsigned long long)executed, (unsigned long long)h);
    return 0;
}
