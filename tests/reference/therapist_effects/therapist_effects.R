# Reference values for engagestats.therapist_effects (tests/analyses/test_therapist_effects.py).
# Run from the repository root:  Rscript tests/reference/therapist_effects/therapist_effects.R
# Input: growth_fixture.csv (model frame of growth_model(therapist_slope=True) on a simulated
# study: 30 therapists x 10 clients, SimulationParams(sd_therapist=2, sd_therapist_slope=0.2),
# seed 15). Output: shares.csv, therapists.csv (R 4.2, lme4).
suppressPackageStartupMessages(library(lme4))
dir <- "tests/reference/therapist_effects"
d <- read.csv(file.path(dir, "growth_fixture.csv"))
fit <- lmer(phq9_total ~ time + (1 + time | therapist_id) + (1 + time | client_id), data = d,
            REML = TRUE, control = lmerControl(optimizer = "bobyqa"))
end_times <- tapply(d$time, d$client_id, max)   # each client's last analysed time

# Written independently from the formulas in therapist_effects' Notes
shares_of <- function(fit, t) {
  vc <- VarCorr(fit)
  Tm <- matrix(vc$therapist_id, 2, 2); Cm <- matrix(vc$client_id, 2, 2)
  s2 <- sigma(fit)^2; b1 <- unname(fixef(fit)["time"])
  tbar <- mean(t); t2 <- mean(t^2); tvar <- mean((t - tbar)^2)
  vpre <- Tm[1, 1] + Cm[1, 1] + s2
  cv <- Tm[1, 1] + Cm[1, 1] + (Tm[1, 2] + Cm[1, 2]) * tbar
  vpost <- Tm[1, 1] + Cm[1, 1] + 2 * (Tm[1, 2] + Cm[1, 2]) * tbar +
    (Tm[2, 2] + Cm[2, 2]) * t2 + s2 + b1^2 * tvar
  b <- cv / vpre
  a <- c(1 - b, tbar)
  c(end_adjusted = drop(t(a) %*% Tm %*% a) / (vpost - cv^2 / vpre),
    change = Tm[2, 2] / (Tm[2, 2] + Cm[2, 2]),
    intake = Tm[1, 1] / vpre,
    b_pre = b, t_mean = tbar)
}
est_last <- shares_of(fit, end_times)
est_fixed <- shares_of(fit, 10)
set.seed(15)
boot <- bootMer(fit, function(f) shares_of(f, end_times)[1:3], nsim = 400, type = "parametric",
                use.u = FALSE)
ci <- apply(boot$t, 2, quantile, probs = c(0.025, 0.975), na.rm = TRUE)
shares <- data.frame(
  estimand = c("end_adjusted", "change", "intake"),
  estimate_last = est_last[1:3], estimate_end10 = est_fixed[1:3],
  boot_low = ci[1, ], boot_high = ci[2, ],
  boot_median = apply(boot$t, 2, median, na.rm = TRUE), boot_sd = apply(boot$t, 2, sd, na.rm = TRUE),
  b_pre = est_last["b_pre"], t_mean = est_last["t_mean"],
  r_call = "shares_of(lmer(phq9_total ~ time + (1 + time | therapist_id) + (1 + time | client_id)), end_times); bootMer(nsim = 400, type = 'parametric', use.u = FALSE) percentile"
)
write.csv(shares, file.path(dir, "shares.csv"), row.names = FALSE)

re <- ranef(fit, condVar = TRUE)$therapist_id
pv <- attr(re, "postVar")                         # 2 x 2 x n_therapists
a <- c(1 - est_last["b_pre"], est_last["t_mean"])
therapists <- data.frame(
  therapist = rownames(re),
  intake = re[, "(Intercept)"], intake_sd = sqrt(pv[1, 1, ]),
  slope = re[, "time"], slope_sd = sqrt(pv[2, 2, ]),
  cond_cov = pv[1, 2, ],
  end_adjusted = as.vector(as.matrix(re) %*% a),
  end_adjusted_sd = sqrt(apply(pv, 3, function(v) drop(t(a) %*% v %*% a))),
  r_call = "ranef(fit, condVar = TRUE)$therapist_id; attr(, 'postVar'); a = (1 - b_pre, t_mean)"
)
write.csv(therapists, file.path(dir, "therapists.csv"), row.names = FALSE)
cat("theta:", getME(fit, "theta"), "\n")
print(shares[, 1:5])
