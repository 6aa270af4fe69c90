# expect: 0x15
# gcd(1071, 462) = 21 with a recursive local function (Euclid's algorithm).
mov r1, 1071
mov r2, 462
call local gcd
exit

# r0 = gcd(r1, r2)
gcd:
jne r2, 0, +2
mov r0, r1
exit
mov r3, r1
mod r3, r2
mov r1, r2
mov r2, r3
call local gcd
exit
