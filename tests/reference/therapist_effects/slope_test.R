# Reference values for the therapist-slope check of engagestats.therapist_effects
# (components: slope_lrt_chisq, slope_lrt_p, end_adjusted_intercept_only).
# Run from the repository root:  Rscript tests/reference/therapist_effects/slope_test.R
# Input: growth_fixture.csv (as therapist_effects.R). Output: slope_test.csv (R, lme4).
suppressPackageStartupMessages(library(lme4))
dir <- "tests/reference/therapist_effects"
d <- read.csv(file.path(dir, "growth_fixture.csv"))
ctl <- lmerControl(optimizer = "bobyqa")
fit1 <- lmer(phq9_total ~ time + (1 + time | therapist_id) + (1 + time | client_id), data = d,
             REML = TRUE, control = ctl)
fit0 <- lmer(phq9_total ~ time + (1 | therapist_id) + (1 + time | client_id), data = d,
             REML = TRUE, control = ctl)
cmp <- anova(fit0, fit1, refit = FALSE)           # REML criteria, same fixed effects
chisq <- cmp$Chisq[2]
# the null puts the slope variance on the boundary: 50:50 mixture of chi2(1) and chi2(2)
p_mix <- 0.5 * pchisq(chisq, 1, lower.tail = FALSE) + 0.5 * pchisq(chisq, 2, lower.tail = FALSE)

# end_adjusted share of the intercept-only model (therapist_effects' Notes with T11 = T01 = 0)
t <- tapply(d$time, d$client_id, max)
vc <- VarCorr(fit0)
t00 <- vc$therapist_id[1, 1]; Cm <- matrix(vc$client_id, 2, 2)
s2 <- sigma(fit0)^2; b1 <- unname(fixef(fit0)["time"])
tbar <- mean(t); t2 <- mean(t^2); tvar <- mean((t - tbar)^2)
vpre <- t00 + Cm[1, 1] + s2
cv <- t00 + Cm[1, 1] + Cm[1, 2] * tbar
vpost <- t00 + Cm[1, 1] + 2 * Cm[1, 2] * tbar + Cm[2, 2] * t2 + s2 + b1^2 * tvar
b <- cv / vpre
share0 <- (1 - b)^2 * t00 / (vpost - cv^2 / vpre)

out <- data.frame(
  quantity = c("slope_lrt_chisq", "slope_lrt_p", "end_adjusted_intercept_only",
               "loglik_slope", "loglik_intercept"),
  value = c(chisq, p_mix, share0, as.numeric(logLik(fit1)), as.numeric(logLik(fit0))),
  r_call = c("anova(fit0, fit1, refit = FALSE)$Chisq[2]",
             "0.5 * pchisq(chisq, 1, lower.tail = FALSE) + 0.5 * pchisq(chisq, 2, lower.tail = FALSE)",
             "(1 - b)^2 * T00 / (Vpost - c^2 / Vpre) of fit0 (intercept-only therapist term)",
             "logLik(fit1) (REML)", "logLik(fit0) (REML)")
)
write.csv(out, file.path(dir, "slope_test.csv"), row.names = FALSE)
print(out[, 1:2], digits = 10)
