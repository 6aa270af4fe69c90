# expect: 0x2ee333961
# fib(50) = 12586269025, iteratively: (a, b) = (b, a + b) fifty times.
mov r0, 0
mov r1, 1
mov r2, 50
loop:
jeq r2, 0, done
mov r3, r0
add r3, r1
mov r0, r1
mov r1, r3
sub r2, 1
ja loop
done:
exit
