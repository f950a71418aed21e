# lme4 fits of the designs of make_designs.py (issue 19 differential test).
# Usage: Rscript fit_lme4.R CSV_DIR   (writes results.json beside this script)
# Per design: lmer(formula, data, REML = TRUE) with lme4's default control, and a
# tight refit lmer(..., control = lmerControl(optimizer = "bobyqa",
#   optCtrl = list(rhoend = 1e-12, maxfun = 1e5))) started from the default fit,
# plus one from the default start, so that designs where the default fit stops
# short are identifiable (logLik_tight > logLik + 1e-6).
suppressMessages({
  library(lme4)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
csv_dir <- args[1]
here <- dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))))
specs <- fromJSON(file.path(here, "designs.json"), simplifyVector = FALSE)

summ <- function(m) {
  if (is.null(m)) return(NULL)
  cf <- summary(m)$coefficients
  list(
    logLik = as.numeric(logLik(m)),
    theta = unname(getME(m, "theta")),
    theta_names = names(getME(m, "theta")),
    fixef = unname(fixef(m)),
    fixef_names = names(fixef(m)),
    se = unname(cf[, "Std. Error"]),
    sigma = sigma(m),
    singular = isSingular(m),
    messages = as.list(c(m@optinfo$conv$lme4$messages, unlist(m@optinfo$warnings))),
    optimizer_code = m@optinfo$conv$opt
  )
}

fit1 <- function(expr) {
  msgs <- character(0)
  m <- withCallingHandlers(
    tryCatch(expr, error = function(e) {
      msgs <<- c(msgs, paste("error:", conditionMessage(e)))
      NULL
    }),
    warning = function(w) {
      msgs <<- c(msgs, conditionMessage(w))
      invokeRestart("muffleWarning")
    },
    message = function(m) {
      msgs <<- c(msgs, conditionMessage(m))
      invokeRestart("muffleMessage")
    }
  )
  out <- summ(m)
  if (is.null(out)) out <- list()
  out$conditions <- as.list(msgs)
  out
}

tight <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5),
                     calc.derivs = FALSE)
results <- list()
for (s in specs) {
  d <- read.csv(file.path(csv_dir, paste0(s$id, ".csv")))
  f <- as.formula(s$formula)
  default <- fit1(lmer(f, d, REML = TRUE))
  tight_a <- fit1(lmer(f, d, REML = TRUE, control = tight))
  tight_b <- if (!is.null(default$theta)) {
    fit1(lmer(f, d, REML = TRUE, control = tight, start = list(theta = default$theta)))
  } else list()
  cands <- Filter(function(r) !is.null(r$logLik), list(tight_a, tight_b))
  best <- if (length(cands)) cands[[which.max(sapply(cands, function(r) r$logLik))]] else list()
  results[[s$id]] <- list(id = s$id, n = nrow(d), default = default, tight = best)
}
writeLines(toJSON(results, auto_unbox = TRUE, digits = NA, null = "null"),
           file.path(here, "results.json"))
cat(length(results), "designs fitted\n")
